"""Contracts of banditlab: environments, oracles, agents, kernels and regret kinds.

This module is the single source of truth for how the pieces of banditlab fit
together. Every environment family and every agent follows the docstrings of
the classes below; the checkers in :mod:`banditlab.checks` verify them.

Vocabulary (shared by every family):

* **Reward is what agents maximise.** Loss-framed problems return
  ``reward = -loss`` and report ``info["loss"]``.
* ``info`` **is for the harness only.** Agents never receive it.
* **Ground truth lives in** ``env.unwrapped.oracle`` (an :class:`Oracle`), which
  agents never see.
* **Two run kinds**: ``"continuing"`` (one Gymnasium episode is one run; the env
  truncates exactly at ``run_length`` and never terminates) and ``"episodic"``
  (a run is ``run_length`` episodes, each ending with ``terminated``;
  ``reset(seed=s)`` starts a run, ``reset()`` continues it).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from banditlab.errors import BanditlabError
from banditlab.validation import validate_params

__all__ = [
    "INFO_T",
    "INFO_EPISODE",
    "INFO_EXPECTED_REWARD",
    "INFO_OPTIMAL_EXPECTED_REWARD",
    "INFO_LOSS",
    "INFO_REWARD_VECTOR",
    "INFO_EXPECTED_REWARD_VECTOR",
    "INFO_ACTION_MASK",
    "RESERVED_INFO_KEYS",
    "RESERVED_INFO_PREFIX",
    "RUN_KINDS",
    "BanditlabError",
    "RegretKind",
    "BenchmarkPolicy",
    "Oracle",
    "CheckpointLayout",
    "EnvKernel",
    "AgentKernel",
    "KernelEnv",
    "PicklableMappingsMixin",
    "Agent",
    "KernelAgent",
    "DEFAULT_TAGS",
    "spawn_env_streams",
]

# --------------------------------------------------------------------------- info keys
INFO_T = "t"
"""Steps completed in the run (continuing) or in the episode (episodic), after this step."""
INFO_EPISODE = "episode_index"
"""Index of the current episode (episodic envs only), from 0 (``"episode"`` is reserved)."""
INFO_EXPECTED_REWARD = "expected_reward"
"""Noise-free reward of the action taken, given everything fixed before the action."""
INFO_OPTIMAL_EXPECTED_REWARD = "optimal_expected_reward"
"""Expected reward of the comparator of the env's primary per-step regret kind."""
INFO_LOSS = "loss"
"""Loss incurred (loss-framed families only); equals ``-reward``."""
INFO_REWARD_VECTOR = "reward_vector"
"""Realised reward of every action at this step, under the same noise (optional)."""
INFO_EXPECTED_REWARD_VECTOR = "expected_reward_vector"
"""Noise-free reward of every action at this step (optional)."""
INFO_ACTION_MASK = "action_mask"
"""int8 mask of the actions valid at the next step, as ``action_space.sample(mask=...)`` takes
it; envs that restrict actions put it in ``info`` at every ``reset`` and every ``step``."""

RESERVED_INFO_KEYS = ("episode", "_episode", "final_obs", "final_info", "final_observation")
"""``info`` keys Gymnasium's wrappers and vector envs write themselves; no env may use them.

``RecordEpisodeStatistics`` writes ``episode`` (``_episode`` in vector envs), vector envs write
``final_obs``/``final_info`` (``final_observation`` before Gymnasium 1.0) and a boolean
``_<key>`` beside every batched key (:data:`RESERVED_INFO_PREFIX`)."""
RESERVED_INFO_PREFIX = "_"
"""Prefix of the per-key masks vector envs add to ``info``; no env key may start with it."""

RUN_KINDS = ("continuing", "episodic")

#: Metric names used in results; ``regret/<kind>`` and ``pseudo_regret/<kind>`` are added per kind.
METRIC_REWARD = "reward"
METRIC_EXPECTED_REWARD = "expected_reward"
METRIC_WALL_TIME = "wall_time_s"


# --------------------------------------------------------------------------- regret kinds
@dataclass(frozen=True)
class RegretKind:
    """Declaration of one regret kind an environment supports.

    Kinds form a small vocabulary: ``stochastic``, ``static``, ``dynamic[/variant]``,
    ``gain``, ``alpha/<ref>``, ``benchmark/<name>`` and ``fixed_budget``. For each
    kind the harness reports realised regret ``regret/<kind>(t) = C_realised(t) -
    sum r`` and pseudo-regret ``pseudo_regret/<kind>(t) = C_expected(t) - sum
    expected_reward``, where ``C`` is the comparator's cumulative reward.

    Attributes:
        per_step: The comparator decomposes into a sum of per-step terms. The
            env's primary kind (``Oracle.primary_kind``) is emitted per step as
            ``info["optimal_expected_reward"]``.
        nonnegative: Expected regret is non-negative by theory (checked along
            random rollouts by the env checker).
        exact: ``False`` when the comparator is an approximation or a bound.
        paired: The comparator is another agent's run on the same env seed
            (``benchmark/<name>``); the harness does not compute it during the
            run, :func:`banditlab.analysis.regret_vs` pairs curves afterwards.
        description: One sentence defining the comparator.
    """

    per_step: bool
    nonnegative: bool = True
    exact: bool = True
    paired: bool = False
    description: str = ""


class BenchmarkPolicy(NamedTuple):
    """A benchmark (oracle) agent named by registry id, built by the harness on demand.

    Oracles never import agent modules: they name the agent by its registered id and
    give the hyperparameters computed from the true model (payoff tables, the best
    arm, ...). Agents that must read the oracle during a run take it as their
    ``oracle`` hyperparameter; such agents are registered in the ``oracle/``
    namespace with the tag ``needs_oracle=True``.

    Attributes:
        agent_id: A registered agent id, e.g. ``"FixedArm-v0"``.
        kwargs: Hyperparameters passed to :func:`banditlab.registry.make_agent`.
    """

    agent_id: str
    kwargs: Mapping[str, Any] = MappingProxyType({})


class Oracle:
    """Ground truth, regret comparators and benchmark policies of an environment.

    Every banditlab env exposes one at ``env.unwrapped.oracle``. Agents never
    see it. The oracle is updated by ``env.step`` only, never changes the
    trajectory and draws nothing from the env's random streams (any Monte-Carlo
    work uses a separate stream), so common random numbers are unaffected.

    Subclasses set :attr:`primary_kind` and :attr:`regret_kinds` and implement
    :meth:`comparator` for every non-paired kind.

    Attributes:
        primary_kind: The per-step kind whose comparator is copied into
            ``info["optimal_expected_reward"]``, or ``None``.
        regret_kinds: Mapping of kind name to :class:`RegretKind`.
    """

    primary_kind: str | None = None
    regret_kinds: Mapping[str, RegretKind] = MappingProxyType({})

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """Cumulative comparator reward over rounds ``1..t``.

        Rounds are steps for continuing envs and episodes for episodic ones.
        The harness calls this only at checkpoints, with increasing ``t`` and
        ``t`` equal to the number of rounds completed so far.

        Args:
            kind: A key of :attr:`regret_kinds` (not a paired kind).
            t: Rounds completed so far.

        Returns:
            ``(realised, expected)``: the comparator's cumulative realised reward
            (under the same noise the learner faced) and its expected reward.
        """
        raise KeyError(f"kind: {kind!r} has no comparator on {type(self).__name__}")

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """Oracle agents built from the true model, by name (e.g. ``"optimal"``).

        Experiment files refer to them as ``oracle:<name>``;
        :func:`banditlab.registry.make_benchmark_policy` builds one.
        """
        return {}

    def run_totals(self) -> Mapping[str, Any]:
        """Whole-run quantities of the rounds played so far (optional; default: none).

        The harness calls this once at the end of a run and stores every numeric
        (non-boolean) scalar in :attr:`banditlab.results.RunResult.totals`; other
        values (arrays, strings) may be returned for direct use but are not stored.

        Returns:
            Name to value; the default is empty.
        """
        return {}

    def policy_expected_reward(self, policy_table: Any) -> float | None:
        """Exact expected reward of the current episode under a policy (optional).

        Episodic envs that can evaluate a policy exactly override this. At the start
        of every episode the harness passes the ``policy_table()`` of agents tagged
        ``exposes_policy`` and, when a value comes back, records it as the episode's
        ``expected_reward`` instead of the sum of per-step expected rewards.

        Args:
            policy_table: What the agent's :meth:`Agent.policy_table` returned.

        Returns:
            The expected episode reward, or ``None`` when the oracle cannot evaluate
            policies (the default).
        """
        return None


# --------------------------------------------------------------------------- kernels
class CheckpointLayout:
    """Named positions in the array returned by :attr:`EnvKernel.checkpoint`.

    The array holds, in this order, ``(realised, expected)`` comparator cumulative
    rewards for each kind of ``comparator_kinds``, then one cumulative value for each
    name of ``extra_metrics``. Kernels write the array in that order; readers use the
    lookups below instead of positions.

    Args:
        comparator_kinds: Kinds whose comparators the checkpoint array holds.
        extra_metrics: Cumulative metrics the checkpoint array holds after the comparators.
    """

    __slots__ = ("comparator_kinds", "extra_metrics", "_kind_index", "_extra_index")

    def __init__(self, comparator_kinds: tuple[str, ...] = (), extra_metrics: tuple[str, ...] = ()):
        self.comparator_kinds = tuple(comparator_kinds)
        self.extra_metrics = tuple(extra_metrics)
        self._kind_index = {k: i for i, k in enumerate(self.comparator_kinds)}
        n_cmp = 2 * len(self.comparator_kinds)
        self._extra_index = {m: n_cmp + j for j, m in enumerate(self.extra_metrics)}

    def __len__(self) -> int:
        """Length of the checkpoint array."""
        return 2 * len(self.comparator_kinds) + len(self.extra_metrics)

    def has_comparator(self, kind: str) -> bool:
        """Whether the checkpoint array holds the comparators of ``kind``."""
        return kind in self._kind_index

    def realised(self, kind: str) -> int:
        """Index of the realised comparator cumulative reward of ``kind``."""
        return 2 * self._index(kind)

    def expected(self, kind: str) -> int:
        """Index of the expected comparator cumulative reward of ``kind``."""
        return 2 * self._index(kind) + 1

    def extra(self, name: str) -> int:
        """Index of the cumulative extra metric ``name``."""
        try:
            return self._extra_index[name]
        except KeyError:
            raise KeyError(f"extra metric {name!r} is not in the checkpoint layout "
                           f"{self.extra_metrics}") from None

    def names(self) -> tuple[str, ...]:
        """Name of every entry in order: ``realised/<kind>``, ``expected/<kind>``, extras."""
        out: list[str] = []
        for kind in self.comparator_kinds:
            out += [f"realised/{kind}", f"expected/{kind}"]
        return (*out, *self.extra_metrics)

    def _index(self, kind: str) -> int:
        try:
            return self._kind_index[kind]
        except KeyError:
            raise KeyError(f"kind {kind!r} has no comparator in the checkpoint layout "
                           f"{self.comparator_kinds}") from None

    def __repr__(self) -> str:
        return f"CheckpointLayout({self.names()!r})"


class EnvKernel(NamedTuple):
    """Pure-function description of an environment for the fused Numba path.

    All functions are module-level ``@njit(cache=True)`` kernels. The Python
    class (:class:`KernelEnv`) calls the *same* kernels with the *same*
    generators, so the Gymnasium path and the fused path agree bit for bit.

    Attributes:
        params: A Numba-typable tuple of arrays and scalars (the instance).
        init: ``init(params, rng) -> state``. ``state`` is a NamedTuple of arrays,
            mutated in place afterwards. ``rng`` is the env's ``init`` stream
            (instances, oblivious adversaries).
        step: ``step(state, params, action, rng) -> (reward, expected_reward,
            optimal_expected_reward)``; ``optimal_expected_reward`` is NaN when
            the env has no primary per-step kind. ``rng`` is the ``noise`` stream,
            consumed by a fixed number of draws per step whatever the action.
        observe: ``observe(state, params) -> float64[...]``, the observation as
            an array; :meth:`KernelEnv.kernel_obs_to_obs` converts it to the
            Gymnasium observation (a copy). It returns a view of a buffer in
            ``state`` written by ``init`` and ``step``, never a new array, and the
            previous observation must stay intact until the following ``step``
            (the fused loop hands both to the agent's ``update``): envs whose
            observation changes keep two rows and write each step's observation into
            the row the previous one does not use. It must be a pure read of
            ``state`` (no side effects, no draws): the fused loop calls it before and
            after every step rather than carrying the array from one step to the next,
            which saves a reference-count update per step.
        checkpoint: ``checkpoint(state, params) -> float64[n]``: cumulative values
            read at checkpoints, laid out as ``(realised, expected)`` for each
            kind in ``comparator_kinds`` followed by one value for each name in
            ``extra_metrics``; :meth:`layout` gives the index of every entry by
            name. It is the one source of comparator values for a kernel env:
            the harness reads it on the fused path and on the Gymnasium path
            (the oracle's :meth:`Oracle.comparator` is not consulted for kernel
            envs). The primary kind's expected comparator is always the running
            sum of ``optimal_expected_reward``; listing the primary kind here
            supplies its *realised* comparator. Every other non-paired kind of
            the oracle must be listed.
        comparator_kinds: Kinds whose comparators ``checkpoint`` returns.
        extra_metrics: Cumulative family metrics ``checkpoint`` returns.
        begin_episode: Episodic kernels only (``None`` for continuing ones):
            ``begin_episode(state, params) -> None`` starts the next episode of the
            run, what ``env.reset()`` without a seed does.
        terminated: Episodic kernels only: ``terminated(state, params) -> bool``, read
            after every step; ``True`` ends the episode (episodes never truncate).
        policy_value: Episodic kernels only, optional:
            ``policy_value(state, params, policy) -> float``, the exact expected reward
            of the episode about to be played under ``policy`` (the array an agent
            kernel's ``policy`` returns), the compiled form of
            :meth:`Oracle.policy_expected_reward` (which must return the same number).

    **Episodic kernels.** An episodic env (``run_kind == "episodic"``) is a plain
    ``gym.Env`` (not a :class:`KernelEnv`) with a ``kernel`` attribute whose
    ``begin_episode`` and ``terminated`` are set, and a ``state_`` attribute (the kernel
    state) after ``reset(seed)``; its ``reset``/``step`` call these kernels. The harness
    then runs whole episodes in compiled code (:mod:`banditlab._fused`): after the env's
    ``reset(seed=...)`` it calls ``begin_episode`` before every episode but the first,
    ``observe`` (which may return a view of a state buffer, valid until the step after
    the next), ``step`` and ``terminated``. ``init`` is called by the env's own
    ``reset(seed)`` only; ``step`` draws from the env's ``noise_rng_``. ``checkpoint``
    holds the ``extra_metrics``; with
    ``comparator_kinds == ()`` the comparators come from ``oracle.comparator`` on both
    paths. A simulator handed to agents tagged ``needs_simulator`` exposes ``handle_``
    (a NamedTuple its agent kernels read) and ``rng_`` (the env's simulator stream).
    """

    params: tuple
    init: Callable
    step: Callable
    observe: Callable
    checkpoint: Callable
    comparator_kinds: tuple[str, ...] = ()
    extra_metrics: tuple[str, ...] = ()
    begin_episode: Callable | None = None
    terminated: Callable | None = None
    policy_value: Callable | None = None

    def layout(self) -> CheckpointLayout:
        """The :class:`CheckpointLayout` of :attr:`checkpoint`'s output."""
        return CheckpointLayout(self.comparator_kinds, self.extra_metrics)


class AgentKernel(NamedTuple):
    """Pure-function description of an agent for the fused Numba path.

    **Allocation-free steady state.** ``init`` allocates every array the agent needs
    (statistics, scratch buffers, the action buffer of a vector action); ``select``,
    ``update`` and the episode hooks allocate nothing (no NumPy expression that builds
    an array, no ``np.argmax`` of a temporary): the fused loop then runs without
    touching the heap, which :func:`banditlab.testing.allocations.allocations_per_step`
    measures and the test suite asserts for every kernel pair. Envs follow the same
    rule (:class:`EnvKernel`).

    Attributes:
        hparams: A Numba-typable tuple of hyperparameters.
        init: ``init(dims, hparams, rng) -> state`` with ``dims = int64[2]`` holding
            ``(n_actions or action dimension, flattened observation size)``;
            ``state`` is a NamedTuple of arrays mutated in place.
        select: ``select(state, hparams, obs, t, rng) -> action``; ``obs`` is the
            kernel observation (a float64 array), ``t`` the current round from 1,
            ``rng`` the agent's generator. Discrete actions are ``int64``; a vector
            action is a view of a buffer in ``state`` (the env reads it during the
            ``step`` that follows; the Python path copies it).
        update: ``update(state, hparams, obs, action, reward, next_obs) -> None``.
        begin_episode: Episodic agents (``None``: nothing to do):
            ``begin_episode(state, hparams, sim, sim_rng, rng) -> None``, called before the
            first ``select`` of every episode (and possibly again before later ones, so it
            must do nothing when the episode's policy is already computed); ``sim`` is the
            simulator's ``handle_`` and ``sim_rng`` its ``rng_`` for agents tagged
            ``needs_simulator``, ``None`` otherwise.
        end_episode: Episodic agents: ``end_episode(state, hparams, rng) -> None``, the
            end-of-episode learning step, after the ``update`` of the terminating step.
        policy: Agents tagged ``exposes_policy``: ``policy(state, hparams) -> array``, the
            policy table of the current episode (after ``begin_episode``) in the form the
            env kernel's ``policy_value`` reads; :meth:`Agent.policy_table` returns a copy.
    """

    hparams: tuple
    init: Callable
    select: Callable
    update: Callable
    begin_episode: Callable | None = None
    end_episode: Callable | None = None
    policy: Callable | None = None


def spawn_env_streams(np_random: np.random.Generator) -> tuple[np.random.Generator, ...]:
    """Named child generators of an env, spawned at ``reset(seed)``.

    Args:
        np_random: The env's ``self.np_random``.

    Returns:
        ``(init_rng, noise_rng, simulator_rng, oracle_rng)``: instance and
        adversary draws; per-step noise (fixed number of draws per step); the
        agent-visible simulator; oracle Monte-Carlo work.
    """
    return tuple(np_random.spawn(4))


_TRANSIENT_ATTRS = frozenset({"_kernel_callers"})
"""Per-process caches (compiled entry points) left out when an env or agent is pickled."""


def _generator_caller(obj: Any, kernel: Callable) -> Any:
    """The cached :class:`~banditlab._entry.GeneratorCaller` of ``kernel`` on ``obj``."""
    callers = obj.__dict__.get("_kernel_callers")
    if callers is None:
        callers = obj.__dict__["_kernel_callers"] = {}
    caller = callers.get(id(kernel))
    if caller is None or caller.kernel is not kernel:
        from banditlab._entry import GeneratorCaller

        caller = callers[id(kernel)] = GeneratorCaller(kernel)
    return caller


class PicklableMappingsMixin:
    """Pickle read-only ``MappingProxyType`` attributes (e.g. ``known_constants``) as dicts.

    ``MappingProxyType`` cannot be pickled; envs must survive pickle round trips
    (fresh and mid-run) because process backends and checkers copy them. Any env
    class may use this mixin; :class:`KernelEnv` does.
    """

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k not in _TRANSIENT_ATTRS}
        proxies = [k for k, v in state.items() if isinstance(v, MappingProxyType)]
        for key in proxies:
            state[key] = dict(state[key])
        state["_mappingproxy_attrs"] = proxies
        return state

    def __setstate__(self, state):
        state = dict(state)
        for key in state.pop("_mappingproxy_attrs", ()):
            state[key] = MappingProxyType(state[key])
        self.__dict__.update(state)


class KernelEnv(PicklableMappingsMixin, gym.Env):
    """Base class of continuing environments whose dynamics live in an :class:`EnvKernel`.

    Contract for subclasses (and, except the kernel, for every banditlab env):

    * Class attributes ``run_kind`` (``"continuing"`` or ``"episodic"``),
      ``extra_metrics`` (numeric ``info`` keys the harness accumulates) and
      ``family`` (a family declared with :func:`banditlab.registry.register_family`,
      e.g. ``"classic"`` or ``"lsd"``; there is no default, and the conformance kit
      rejects an env whose family is missing or unknown. Agents list the families
      they run on in their ``families`` tag; the parity suite pairs agents with
      envs of those families).
    * Attributes set in ``__init__``: ``action_space``, ``observation_space``,
      ``run_length`` (the horizon), ``oracle`` (an :class:`Oracle`),
      ``known_constants`` (a read-only mapping of what the setting grants the
      learner), and ``kernel`` (an :class:`EnvKernel`).
    * Randomness only through ``self.np_random``: ``reset(seed)`` spawns the
      streams of :func:`spawn_env_streams`; each step consumes a fixed number
      of draws from the noise stream whatever the action (common random numbers).
    * ``info`` holds ``t``, ``expected_reward``, ``optimal_expected_reward``
      (only with a primary per-step kind) and the family keys.

    * Optional: ``simulator``, a handle given to agents tagged ``needs_simulator``
      at ``reset`` (``None``, the default, when the env has none). Envs that are
      plain ``gym.Env`` subclasses may provide the same attribute; the harness
      reads it there with a default of ``None``, and likewise reads an optional
      ``max_episode_steps`` (a bound on episode length) of episodic envs.

    Subclasses implement :meth:`_make_info_extra` for family ``info`` keys,
    :meth:`_on_step` to update the oracle's running sums, and may override
    :meth:`kernel_obs_to_obs` and :meth:`_validate_action`.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    run_kind: ClassVar[str] = "continuing"
    extra_metrics: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str]  # declared by every concrete env class; no default

    kernel: EnvKernel
    oracle: Oracle
    run_length: int
    simulator: Any = None
    """Simulator handle for ``needs_simulator`` agents, or ``None`` (the default)."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a run: spawn streams, build the kernel state, return ``(obs, info)``."""
        super().reset(seed=seed)
        (self.init_rng_, self.noise_rng_, self.simulator_rng_, self.oracle_rng_) = (
            spawn_env_streams(self.np_random)
        )
        self.state_ = self.kernel.init(self.kernel.params, self.init_rng_)
        self.t_ = 0
        self._on_reset()
        obs = self.kernel_obs_to_obs(self.kernel.observe(self.state_, self.kernel.params))
        return obs, {}

    def step(self, action):
        """Advance one round through the kernel; see the class docstring for ``info``."""
        if not hasattr(self, "state_"):
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        if self.t_ >= self.run_length:
            raise gym.error.ResetNeeded(
                f"the run is over (run_length={self.run_length}); call reset(seed=...)"
            )
        kaction = self._validate_action(action)
        pre = self._pre_step_info(kaction)
        # Same kernel, same generator; called through a compiled entry point that
        # passes the generator cheaply (banditlab._entry).
        reward, expected, optimal = _generator_caller(self, self.kernel.step)(
            self.state_, self.kernel.params, kaction, self.noise_rng_
        )
        self.t_ += 1
        reward = float(reward)
        info: dict[str, Any] = {INFO_T: self.t_, INFO_EXPECTED_REWARD: float(expected)}
        if self.oracle.primary_kind is not None:
            info[INFO_OPTIMAL_EXPECTED_REWARD] = float(optimal)
        info.update(pre)
        info.update(self._make_info_extra(kaction, reward))
        self._on_step(kaction, reward, info)
        obs = self.kernel_obs_to_obs(self.kernel.observe(self.state_, self.kernel.params))
        truncated = self.t_ >= self.run_length
        return obs, reward, False, truncated, info

    # ----------------------------------------------------------------- hooks
    def kernel_obs_to_obs(self, kobs: NDArray[np.float64]) -> Any:
        """Convert the kernel observation array into the Gymnasium observation.

        The default returns a copy: ``observe`` may return a view of a state buffer that
        a later ``step`` overwrites, and a Gymnasium observation must stay as it was.
        """
        return np.array(kobs)

    @staticmethod
    def obs_to_kernel_obs(obs: Any) -> NDArray[np.float64]:
        """Inverse of :meth:`kernel_obs_to_obs` used by kernel agents on the Python path."""
        return np.atleast_1d(np.asarray(obs, dtype=np.float64))

    def _validate_action(self, action: Any) -> Any:
        """Check ``action`` against the action space; return the kernel's action.

        Raises:
            BanditlabError: When the action is outside ``action_space``.
        """
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            if isinstance(action, np.ndarray) and action.shape == ():
                action = action.item()
            if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
                raise BanditlabError(
                    f"action: expected an integer in [0, {space.n}), got {action!r}"
                )
            if not 0 <= int(action) - int(space.start) < int(space.n):
                raise BanditlabError(
                    f"action: {int(action)} is outside the action space "
                    f"[{int(space.start)}, {int(space.start) + int(space.n)})"
                )
            return np.int64(action)
        arr = np.asarray(action, dtype=np.float64)
        if arr.shape != space.shape:
            raise BanditlabError(f"action: expected shape {space.shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise BanditlabError("action: must be finite")
        return arr

    def _on_reset(self) -> None:
        """Hook: reset the oracle's running sums (called at the end of ``reset``)."""

    def _pre_step_info(self, action: Any) -> dict[str, Any]:
        """Hook: ``info`` entries that must be read before the kernel step (state before)."""
        return {}

    def _make_info_extra(self, action: Any, reward: float) -> dict[str, Any]:
        """Hook: family ``info`` keys after the step."""
        return {}

    def _on_step(self, action: Any, reward: float, info: dict[str, Any]) -> None:
        """Hook: update the oracle's running sums from this step."""


# --------------------------------------------------------------------------- agents
DEFAULT_TAGS: Mapping[str, Any] = MappingProxyType(
    {
        "learns": True,
        "oracle": False,
        "needs_oracle": False,
        "needs_simulator": False,
        "exposes_policy": False,
        "action_kind": "discrete",
        "requires": (),
        "xfail_checks": {},
        # Env the conformance checks run this agent on: (env id, kwargs). Family agents
        # point it at their family's default env; the generic "learns" check runs only
        # on the default Bernoulli env, family learning checks live in family tests.
        "check_env": ("banditlab/Bernoulli-v0", {"horizon": 200}),
    }
)


class Agent:
    """Base class of every banditlab agent (scikit-learn construction rules).

    Contract:

    * ``__init__(**hyperparameters)`` stores each hyperparameter verbatim as an
      attribute of the same name and does nothing else: no arrays, no RNG.
    * :meth:`reset` creates every piece of learned state, named with a trailing
      underscore, and ``rng_ = np.random.default_rng(seed)``; the agent draws
      randomness only from ``rng_``.
    * :meth:`act` returns an action in the action space; :meth:`update` receives
      ``(observation, action, reward, next_observation, terminated)``. Agents
      never receive ``info``, the env or its oracle; constants of the setting
      reach them only as hyperparameters (bound by experiment files through
      ``"@known:<name>"`` and ``"@run_length"``).
    * :meth:`get_params` is derived from the ``__init__`` signature, so
      ``type(a)(**a.get_params())`` is a clone.
    * Tags (class attribute ``_tags``, merged over :data:`DEFAULT_TAGS`):
      ``learns``, ``oracle``, ``needs_oracle`` (the agent takes the env's live
      oracle as its ``oracle`` hyperparameter, so it cannot be built without an env;
      registered in the ``oracle/`` namespace and built by the conformance kit from
      the oracle of its ``check_env``), ``needs_simulator``, ``exposes_policy``,
      ``action_kind``, ``families`` (required, no default: the declared families
      whose envs the agent runs on, its home family first), ``requires``,
      ``xfail_checks``, ``check_env`` (the ``(env id, kwargs)`` the conformance
      checks run the agent on).
    * Hyperparameters are validated in :meth:`_validate_params`, called by
      :meth:`reset`, raising :class:`BanditlabError` naming the parameter.
    * Optional members with defaults: :meth:`diagnostics` (scalars the harness
      records as ``agent/<name>`` at every checkpoint) and :meth:`policy_table`
      (for agents tagged ``exposes_policy``).
    * **Names that cannot lie.** Every concrete agent class declares
      :attr:`display_name` (no default): the published algorithm's name when the
      class implements it *as published* (e.g. ``"UCRL2"``, ``"Tsallis-INF"``),
      otherwise a name of our own that does not claim a paper's name alone. A class
      that departs from a published algorithm declares :attr:`deviation` (a short
      phrase, e.g. ``"exhaustive block planner"``) and its docstring has a
      ``Deviations:`` section (what differs, why, measured effect and the command
      that measured it). Opt-in variants selected by a hyperparameter override
      :meth:`variant_tags`. :meth:`label` combines them; experiment files and plots
      show it (a label written in an experiment file must start with it). The
      conformance kit checks the declarations (``check_agent_display_name``).
    """

    display_name: ClassVar[str]
    """Name shown in tables and legends; declared by every concrete agent class (no default)."""
    deviation: ClassVar[str | None] = None
    """Short phrase naming how the class departs from the published algorithm, or ``None``."""
    registry_id: str | None = None
    """Id the agent was built from (set by :func:`banditlab.registry.make_agent`)."""
    _tags: ClassVar[Mapping[str, Any]] = {}
    _parameter_constraints: ClassVar[Mapping[str, Any]] = {}
    """Hyperparameter name to constraint (:mod:`banditlab.validation`), checked by
    :meth:`_validate_params` before any state is built."""

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        # Read from the class's own __dict__ (not inherited): each subclass has its own.
        names = cls.__dict__.get("_param_names_cache")
        if names is not None and names[0] is cls.__init__:
            return names[1]
        sig = inspect.signature(cls.__init__)
        out = []
        for name, p in sig.parameters.items():
            if name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must not take *args or **kwargs")
            out.append(name)
        cls._param_names_cache = (cls.__init__, tuple(out))
        return tuple(out)

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, from the ``__init__`` signature."""
        return {name: getattr(self, name) for name in self._param_names()}

    def clone(self) -> Agent:
        """A fresh, unreset agent with the same hyperparameters.

        Hyperparameters are deep-copied, except the live ``oracle`` of agents tagged
        ``needs_oracle``, which the clone shares (a copied oracle would be detached
        from its env).
        """
        params = self.get_params()
        shared = {}
        if self.get_tags().get("needs_oracle") and "oracle" in params:
            shared["oracle"] = params.pop("oracle")
        return type(self)(**copy.deepcopy(params), **shared)

    @classmethod
    def get_tags(cls) -> dict[str, Any]:
        """Tags of this agent class merged over :data:`DEFAULT_TAGS`."""
        tags = dict(DEFAULT_TAGS)
        for klass in reversed(cls.__mro__):
            tags.update(getattr(klass, "_tags", {}) or {})
        return tags

    def _validate_params(self, action_space: gym.Space, observation_space: gym.Space) -> None:
        """Raise :class:`BanditlabError` naming any invalid hyperparameter.

        The default checks :attr:`_parameter_constraints`; subclasses that also check
        the spaces or relations between hyperparameters call ``super()`` first.
        """
        validate_params(self._parameter_constraints, self.get_params())

    def reset(
        self,
        action_space: gym.Space,
        observation_space: gym.Space,
        *,
        seed: int | None = None,
        simulator: Any = None,
    ) -> None:
        """Create all learned state for a new run.

        Args:
            action_space: The env's action space.
            observation_space: The env's observation space.
            seed: Seed of ``rng_``.
            simulator: The env's simulator handle (only for ``needs_simulator`` agents).
        """
        raise NotImplementedError

    def act(self, observation: Any) -> Any:
        """Choose an action for the current observation."""
        raise NotImplementedError

    def update(
        self,
        observation: Any,
        action: Any,
        reward: float,
        next_observation: Any,
        terminated: bool,
    ) -> None:
        """Learn from one round of feedback."""
        raise NotImplementedError

    def variant_tags(self) -> tuple[str, ...]:
        """Short phrases for the opt-in variant options that are on (default: none).

        Override when a hyperparameter selects a variant of the algorithm, e.g. return
        ``("pole guard",)`` when ``pole_guard=True``. Called on unreset agents (built
        from an experiment entry's kwargs, where ``"@known:<name>"`` references are
        still strings), so it must read hyperparameters only.

        Returns:
            The phrases in a fixed order; ``()`` when the defaults are in use.
        """
        return ()

    def label(self) -> str:
        """``display_name``, or ``"display_name [deviation, tag, ...]"``.

        The parts in brackets are :attr:`deviation` (when set) followed by
        :meth:`variant_tags`.

        Raises:
            BanditlabError: When the class declares no non-empty ``display_name``.
        """
        name = getattr(type(self), "display_name", None)
        if not isinstance(name, str) or not name.strip():
            where = f" ({self.registry_id})" if self.registry_id else ""
            raise BanditlabError(
                f"display_name: agent class {type(self).__module__}.{type(self).__qualname__}"
                f"{where} declares no display_name; add display_name: ClassVar[str] = "
                "\"<algorithm name>\" to the class (see banditlab.core.Agent)"
            )
        parts = [] if self.deviation is None else [str(self.deviation)]
        parts += [str(tag) for tag in self.variant_tags()]
        return f"{name} [{', '.join(parts)}]" if parts else name

    def diagnostics(self) -> Mapping[str, float]:
        """Scalars describing the learned state, recorded as ``agent/<name>`` (optional).

        Called by the harness at every checkpoint; the keys must be the same at
        every call. An agent that overrides this runs the fused path in compiled
        segments between checkpoints (same results, one Python call per checkpoint);
        with the default (no diagnostics) the whole run stays in compiled code.

        Returns:
            Name to value; the default is empty.
        """
        return {}

    def policy_table(self) -> Any:
        """The current policy in the form the env's oracle evaluates (optional).

        Agents tagged ``exposes_policy`` override this; the harness passes it to
        :meth:`Oracle.policy_expected_reward` at the start of every episode.

        Returns:
            The policy, or ``None`` (the default) when the agent exposes none.
        """
        return None

    def __getstate__(self) -> dict[str, Any]:
        """Instance state for pickling and copying, without per-process caches."""
        return {k: v for k, v in self.__dict__.items() if k not in _TRANSIENT_ATTRS}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def _n_actions_or_dim(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    raise BanditlabError(f"action_space: unsupported space {space!r}")


def _obs_size(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return 1
    if space.shape is None:
        raise BanditlabError(f"observation_space: unsupported space {space!r}")
    return int(np.prod(space.shape)) if len(space.shape) else 1


class KernelAgent(Agent):
    """Agent whose algorithm lives in an :class:`AgentKernel`; the class is a thin wrapper.

    Subclasses implement :meth:`make_kernel` (hyperparameters to an
    :class:`AgentKernel`) and, for non-integer actions, :meth:`kernel_action_to_action`.
    The Python path calls the same jitted ``select``/``update`` kernels as the
    fused loop, with the same ``rng_``, so both paths agree bit for bit.

    Learned state after :meth:`reset`: ``kernel_`` (the kernel), ``state_`` (its
    NamedTuple of arrays), ``dims_`` (int64[2]), ``t_`` (rounds played), ``rng_``.
    """

    def make_kernel(self) -> AgentKernel:
        """Build the :class:`AgentKernel` from the hyperparameters."""
        raise NotImplementedError

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate hyperparameters, build the kernel and its state, seed ``rng_``."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.kernel_ = self.make_kernel()
        self.dims_ = np.array(
            [_n_actions_or_dim(action_space), _obs_size(observation_space)], dtype=np.int64
        )
        self.action_space_ = action_space
        self.state_ = self.kernel_.init(self.dims_, self.kernel_.hparams, self.rng_)
        self.t_ = 0

    def act(self, observation):
        """Select an action with the kernel's ``select``."""
        kobs = KernelEnv.obs_to_kernel_obs(observation)
        a = _generator_caller(self, self.kernel_.select)(
            self.state_, self.kernel_.hparams, kobs, self.t_ + 1, self.rng_)
        return self.kernel_action_to_action(a)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Update the kernel state in place."""
        kobs = KernelEnv.obs_to_kernel_obs(observation)
        knext = KernelEnv.obs_to_kernel_obs(next_observation)
        self.kernel_.update(
            self.state_, self.kernel_.hparams, kobs, self.action_to_kernel_action(action),
            float(reward), knext,
        )
        self.t_ += 1

    def kernel_action_to_action(self, action: Any) -> Any:
        """Convert the kernel's action to the env's (``int`` for discrete spaces)."""
        if isinstance(self.action_space_, gym.spaces.Discrete):
            return int(action)
        return np.array(action)  # a copy: ``select`` may return a view of a state buffer

    def action_to_kernel_action(self, action: Any) -> Any:
        """Convert an env action back to the kernel's representation."""
        if isinstance(self.action_space_, gym.spaces.Discrete):
            return np.int64(action)
        return np.asarray(action, dtype=np.float64)
