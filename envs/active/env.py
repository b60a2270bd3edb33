"""Fixed-budget active identification: ``banditlab/ActiveIdentification-v0``.

Learning to actively learn (Zhang, Jain & Jamieson, "Learning to Actively Learn: A Robust
Approach", arXiv 2010.15382, 2020): a policy spends T queries to identify a hidden hypothesis
(the best arm, a threshold, the person of a noisy 20 Questions game, a user's favourite joke),
then announces it. The env is episodic: one episode is one instance (T query steps plus one
decision step, ``terminated=True`` at the decision); one run is ``n_episodes`` instances.

The instance and all ground truth (θ, z*(θ), the instance id, the class and ρ) live only in
``env.unwrapped.oracle``; ``info`` carries only what the harness needs (see the class docstring).

Phase masks: the valid actions of the next step are given by ``info["action_mask"]`` (at
``reset`` and at every ``step``, the int8 mask ``action_space.sample(mask=...)`` takes, so
Gymnasium wrappers and vector envs can draw valid actions from the first step on),
``env.unwrapped.action_mask()`` and the action space itself (:class:`PhaseDiscrete` samples
only valid actions); agents derive the phase from the last observation entry (t/T, 1 at the
decision step). An action outside the phase's mask raises :class:`BanditlabError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from banditlab.core import (
    INFO_ACTION_MASK,
    INFO_EPISODE,
    INFO_EXPECTED_REWARD,
    INFO_LOSS,
    INFO_OPTIMAL_EXPECTED_REWARD,
    INFO_T,
    BanditlabError,
    BenchmarkPolicy,
    Oracle,
    PicklableMappingsMixin,
    RegretKind,
    spawn_env_streams,
)
from banditlab.envs.active.providers import (
    PROVIDERS,
    InstanceProvider,
    geometric_grid,
    make_provider,
)
from banditlab.validation import Array, InstanceOf, Interval, Options, validate_params

__all__ = ["ActiveIdentification", "ActiveIdentificationOracle", "PhaseDiscrete", "OBS_BOUND"]

OBS_BOUND = 1e6
"""Finite bound of the mean-response entries of the observation (Gaussian means are clipped)."""


class PhaseDiscrete(gym.spaces.Discrete):
    """``Discrete(n_q + n_h)`` whose :meth:`sample` draws only actions valid in the current phase.

    The env keeps :attr:`phase_mask` (int8[n]) up to date: queries ``0..n_q-1`` during the
    query phase, hypotheses ``n_q..n_q+n_h-1`` at the decision step. ``sample(mask=...)``
    with an explicit mask behaves like :class:`gymnasium.spaces.Discrete`. Only the env's own
    space tracks the phase: a vector env's batched space (or a copy of this one) does not, so
    clients outside the env sample with ``mask=info["action_mask"]``.
    """

    def __init__(self, n: int, n_queries: int, seed=None):
        super().__init__(n, seed=seed)
        self.n_queries = int(n_queries)
        self.phase_mask = np.zeros(n, dtype=np.int8)
        self.phase_mask[: self.n_queries] = 1

    def sample(self, mask=None, probability=None):
        """A uniformly random action of the current phase (or as Discrete with a mask)."""
        if mask is None and probability is None:
            mask = self.phase_mask.copy()
        return super().sample(mask=mask, probability=probability)


class ActiveIdentificationOracle(Oracle):
    """Ground truth of the current episode and the ``fixed_budget`` comparator.

    Attributes:
        theta: float64 instance of the current episode.
        z_star: True hypothesis.
        instance_id: Id of the instance (person, user, index in the sequence) or −1.
        complexity_class: Class index the instance was sampled from, or −1.
        rho_value: ρ(θ) (computed lazily by :meth:`rho`).
        v_star: Per-class V̂*_r registered by training (``register_v_star``).
    """

    primary_kind = "fixed_budget"
    regret_kinds = MappingProxyType(
        {
            "fixed_budget": RegretKind(
                per_step=True,
                nonnegative=True,
                description="an oracle that knows z*: zero loss in every episode",
            )
        }
    )

    def __init__(self, provider: InstanceProvider, budget: int, loss_kind: str):
        self.provider = provider
        self.budget = budget
        self.loss_kind = loss_kind
        self.theta = None
        self.z_star = -1
        self.instance_id = -1
        self.complexity_class = -1
        self._rho = None
        self.records: list[tuple[int, int, int, float, float]] = []
        self.v_star: dict[int, float] = {}

    def set_instance(self, theta, instance_id: int, complexity_class: int) -> None:
        """Install the instance of a new episode."""
        self.theta = np.asarray(theta, dtype=np.float64)
        self.z_star = self.provider.z_star(self.theta)
        self.instance_id = int(instance_id)
        self.complexity_class = int(complexity_class)
        self._rho = None

    def rho(self) -> float:
        """ρ(θ) of the current instance (cached per episode)."""
        if self._rho is None:
            self._rho = float(self.provider.rho(self.theta))
        return self._rho

    def record(self, loss: float) -> None:
        """Append the finished episode's record."""
        rho = self._rho if self._rho is not None else math.nan
        self.records.append((self.instance_id, self.z_star, self.complexity_class, rho,
                             float(loss)))

    def episode_records(self) -> list[dict[str, Any]]:
        """Per episode: instance_id, true_hypothesis, complexity_class, rho, loss.

        ``rho`` is NaN unless :meth:`rho` was called during the episode (ρ costs an LP for
        perturbed Q20 instances, so it is never computed just for the records).
        """
        return [
            {"instance_id": i, "true_hypothesis": z, "complexity_class": c, "rho": rho,
             "loss": loss}
            for (i, z, c, rho, loss) in self.records
        ]

    def register_v_star(self, values: dict[int, float]) -> None:
        """Record per-class V̂*_r estimated by the per-class policies."""
        self.v_star.update({int(k): float(v) for k, v in values.items()})

    def comparator(self, kind: str, t: int) -> tuple[float, float]:
        """``(0, 0)``: the comparator never errs."""
        if kind != "fixed_budget":
            return super().comparator(kind, t)
        return 0.0, 0.0

    def benchmark_policies(self) -> dict[str, BenchmarkPolicy]:
        """``static_design``: queries x ~ λ*(θ) of each episode's true instance, then the MLE.

        The agent (``oracle/StaticDesign-v0``) keeps a reference to this oracle and reads θ
        at every episode start.
        """
        kc = self.provider.known_constants()
        return {
            "static_design": BenchmarkPolicy(
                "oracle/StaticDesign-v0",
                {
                    "oracle": self,
                    "budget": self.budget,
                    "problem": kc["problem"],
                    "hypothesis_table": kc.get("hypothesis_table"),
                    "features": kc.get("features"),
                },
            )
        }


_CONSTRAINTS: dict[str, Any] = {
    "budget": Interval("int", 1, None),
    "n_episodes": Interval("int", 1, None),
    "provider": Options(*PROVIDERS),
    "provider_kwargs": [None, InstanceOf(dict, what="a dict of provider arguments")],
    "instance_mode": Options("sample", "sequence"),
    "instances": [None, InstanceOf(list, tuple, np.ndarray, what="a list of vectors")],
    "instance_ids": [None, Options("all"), Array("int", ndim=1)],
    "obs_mode": Options("stats", "history"),
    "loss": Options("zero_one", "simple_regret"),
    "class_r1": [None, Interval("real", 0, None, closed="neither")],
    "n_classes": Interval("int", 1, None),
    "class_ratio": Interval("real", 1, None, closed="neither"),
    "complexity_class": [None, Interval("int", 0, None)],
}
"""Constructor argument constraints of :class:`ActiveIdentification` (checked first)."""



def default_class_r1(provider: InstanceProvider) -> float:
    """Default smallest class radius r_1: 2 n_q for best-arm identification, else per provider."""
    if provider.name == "synthetic_bai":
        return 2.0 * provider.n_queries
    return {"thresholds": 20.0, "q20": 0.75, "jester_linear": 1.0}[provider.name]


def check_instance(provider: InstanceProvider, theta, name: str) -> np.ndarray:
    """``theta`` as a float64 instance of ``provider`` (shape, finiteness, probabilities).

    Raises:
        BanditlabError: Naming ``name`` when ``theta`` is not an instance of the provider.
    """
    try:
        arr = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise BanditlabError(f"{name}: expected a vector of numbers, got {theta!r}") from None
    ref = provider.sample_unrestricted(np.random.default_rng(0))
    if arr.shape != ref.shape or not np.all(np.isfinite(arr)):
        raise BanditlabError(f"{name}: expected a finite vector of shape {ref.shape}")
    if provider.response_model != "gaussian" and (arr.min() < 0 or arr.max() > 1):
        raise BanditlabError(f"{name}: probabilities must lie in [0, 1]")
    return arr


def instance_sequence(provider: InstanceProvider, instance_mode: str, instances,
                      instance_ids) -> list[tuple[np.ndarray, int]]:
    """The ``(θ, instance id)`` list replayed in ``"sequence"`` mode (empty in ``"sample"``).

    ``instances`` come first, each with its index in the list as its id, then the fixed
    instances of ``instance_ids`` (``"all"``: every fixed instance of the provider).

    Raises:
        BanditlabError: Instances outside ``"sequence"`` mode, ``"all"`` for a provider
            without fixed instances, an empty sequence, or an invalid instance.
    """
    if instance_mode != "sequence":
        if instances is not None or instance_ids is not None:
            raise BanditlabError("instances: only allowed with instance_mode='sequence'")
        return []
    sequence = []
    if instances is not None:
        sequence += [(check_instance(provider, th, "instances"), i)
                     for i, th in enumerate(instances)]
    if isinstance(instance_ids, str):  # "all"
        if provider.instance_ids() == 0:
            raise BanditlabError(
                "instance_ids: expected a list of ids, or 'all' for a provider with "
                f"fixed instances, got {instance_ids!r}"
            )
        instance_ids = range(provider.instance_ids())
    if instance_ids is not None:
        sequence += [(provider.instance_from_id(i), int(i)) for i in instance_ids]
    if not sequence:
        raise BanditlabError(
            "instances: 'sequence' mode needs a non-empty instances or instance_ids list"
        )
    return sequence


def observation_space(obs_mode: str, n_q: int, budget: int) -> gym.spaces.Box:
    """``stats``: Box(2 n_q + 1) [counts/T, means, t/T]; ``history``: Box((T, 2)) pairs."""
    if obs_mode == "stats":
        low = np.r_[np.zeros(n_q), np.full(n_q, -OBS_BOUND), 0.0]
        high = np.r_[np.ones(n_q), np.full(n_q, OBS_BOUND), 1.0]
        return gym.spaces.Box(low, high, dtype=np.float64)
    return gym.spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(budget, 2), dtype=np.float64)


class ActiveIdentification(PicklableMappingsMixin, gym.Env):
    """Fixed-budget active identification (LTAL, Zhang, Jain & Jamieson 2020).

    ## Description
    Each episode hides an instance θ from the provider. The agent asks ``budget`` queries
    (responses Gaussian, Bernoulli or categorical) and then announces a hypothesis.

    ## Action Space
    ``Discrete(n_q + n_h)``: queries ``0..n_q−1`` in the query phase, hypothesis
    ``a − n_q`` at the decision step. Actions outside the phase raise ``BanditlabError``.

    ## Action Masks
    ``info["action_mask"]``, at ``reset`` and at every ``step``: ``int8[n_q + n_h]``, 1 for
    the actions valid at the next step (the queries, or the hypotheses at the decision step),
    in the form ``action_space.sample(mask=info["action_mask"])`` accepts. In a vector env it
    is batched to ``int8[num_envs, n_q + n_h]``:
    ``envs.action_space.sample(mask=tuple(info["action_mask"]))``. The same mask is
    ``env.unwrapped.action_mask()``.

    ## Observation Space
    ``obs_mode="stats"``: ``Box(2 n_q + 1)``: [counts/T, mean response per query (0 when not
    asked; Gaussian means clipped to ±1e6), t/T]; t/T = 1 at the decision step.
    ``obs_mode="history"``: ``Box((T, 2))`` of (query, response) pairs padded with −1.

    ## Reward
    0 while querying, −loss(ẑ, θ) at the decision step.

    ## Regret
    ``fixed_budget`` (primary, per step): the comparator knows z*, so
    ``optimal_expected_reward = 0`` and the regret is the cumulative decision loss.

    ## Information
    ``t`` (1..T+1), ``episode_index``, ``expected_reward`` (−loss at the decision, else 0),
    ``optimal_expected_reward`` (0), ``loss`` and ``correct`` (0 while querying),
    ``query`` and ``response`` (query steps), ``action_mask`` (valid actions of the next step).
    ``reset`` returns ``episode_index`` and ``action_mask``.

    ## Randomness
    ``reset(seed)`` spawns ``init`` (instances), ``noise`` (exactly one draw per query step,
    uniform or standard normal, whatever the query; none at the decision step), ``simulator``
    and ``oracle`` streams. ``reset(options={"instance": θ})`` or ``{"instance_id": i}``
    forces the next instance (harness and evaluation only).

    ## Arguments
    * ``provider``: ``"synthetic_bai"``, ``"thresholds"``, ``"q20"`` or ``"jester_linear"``.
    * ``provider_kwargs``: keyword arguments of the provider.
    * ``budget``: T ≥ 1 queries per episode (default 20).
    * ``n_episodes``: episodes per run (default 1000).
    * ``instance_mode``: ``"sample"`` or ``"sequence"`` (replay ``instances``/``instance_ids``
      cyclically).
    * ``instances``: list of θ vectors for ``"sequence"``.
    * ``instance_ids``: list of fixed instance ids (persons, users) for ``"sequence"``, or
      ``"all"``.
    * ``complexity_class``: class index m restricting sampled instances to ρ ≤ r_m.
    * ``class_r1``, ``n_classes``, ``class_ratio``: the geometric grid r_m = r1·ratio^m.
    * ``obs_mode``: ``"stats"`` or ``"history"``.
    * ``loss``: ``"zero_one"`` or ``"simple_regret"``.

    ## References
    Zhang, Jain & Jamieson (2020), arXiv 2010.15382; Hu et al. (2018) for the Q20 data;
    Garivier & Kaufmann (2016) for ρ of best-arm identification.

    ## Version History
    * v0: initial version.
    """

    family = "active"

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    run_kind: ClassVar[str] = "episodic"
    extra_metrics: ClassVar[tuple[str, ...]] = ("loss", "correct")

    def __init__(
        self,
        provider: str = "synthetic_bai",
        provider_kwargs: dict | None = None,
        budget: int = 20,
        n_episodes: int = 1000,
        instance_mode: str = "sample",
        instances: Sequence | None = None,
        instance_ids: Sequence[int] | None = None,
        complexity_class: int | None = None,
        class_r1: float | None = None,
        n_classes: int = 6,
        class_ratio: float = 2.0,
        obs_mode: str = "stats",
        loss: str = "zero_one",
    ):
        v = validate_params(_CONSTRAINTS, {
            "budget": budget, "n_episodes": n_episodes, "provider": provider,
            "provider_kwargs": provider_kwargs, "instance_mode": instance_mode,
            "instances": instances, "instance_ids": instance_ids, "obs_mode": obs_mode,
            "loss": loss, "class_r1": class_r1, "n_classes": n_classes,
            "class_ratio": class_ratio, "complexity_class": complexity_class,
        })
        self.budget = v["budget"]
        self.n_episodes = self.run_length = v["n_episodes"]
        self.provider_name, self.provider_kwargs = provider, dict(provider_kwargs or {})
        self.provider = p = make_provider(provider, self.provider_kwargs)
        if loss == "simple_regret" and p.problem not in ("argmax", "linear"):
            raise BanditlabError(
                f"loss: 'simple_regret' needs an argmax or linear provider, not {provider!r}"
            )
        self.instance_mode, self.obs_mode, self.loss_kind = instance_mode, obs_mode, loss
        r1 = default_class_r1(p) if class_r1 is None else v["class_r1"]
        self.class_grid = geometric_grid(r1, v["n_classes"], v["class_ratio"])
        self.complexity_class = v["complexity_class"]
        if self.complexity_class is not None and self.complexity_class >= len(self.class_grid):
            raise BanditlabError(
                f"complexity_class: expected 0 <= class < {len(self.class_grid)}, "
                f"got {self.complexity_class}"
            )
        self._sequence = instance_sequence(p, instance_mode, v["instances"], v["instance_ids"])
        self.n_q, self.n_h = p.n_queries, p.n_hypotheses
        self.action_space = PhaseDiscrete(self.n_q + self.n_h, self.n_q)
        self.observation_space = observation_space(obs_mode, self.n_q, self.budget)
        self.oracle = ActiveIdentificationOracle(p, self.budget, loss)
        kc = p.known_constants()
        kc["budget"] = self.budget
        kc["class_grid"] = self.class_grid.tolist()
        self.known_constants = MappingProxyType(kc)

    # ----------------------------------------------------------------- helpers
    def action_mask(self) -> np.ndarray:
        """int8[n_q + n_h]: the actions valid at the next step."""
        return self.action_space.phase_mask.copy()

    def _set_phase(self, decision: bool) -> None:
        m = self.action_space.phase_mask
        m[:] = 0
        if decision:
            m[self.n_q:] = 1
        else:
            m[: self.n_q] = 1

    def _obs(self) -> np.ndarray:
        if self.obs_mode == "stats":
            cnt = self.counts_
            mean = np.where(cnt > 0, self.sums_ / np.maximum(cnt, 1), 0.0)
            return np.concatenate(
                [cnt / self.budget, np.clip(mean, -OBS_BOUND, OBS_BOUND),
                 [min(self.t_, self.budget) / self.budget]]
            ).astype(np.float64)
        return self.history_.copy()

    def _new_episode(self, options: dict | None) -> None:
        p = self.provider
        cls = -1 if self.complexity_class is None else self.complexity_class
        options = options or {}
        if "instance" in options:
            theta, iid = check_instance(p, options["instance"], "instance"), -1
        elif "instance_id" in options:
            iid = int(options["instance_id"])
            theta = p.instance_from_id(iid)
        elif self.instance_mode == "sequence":
            theta, iid = self._sequence[self.episode_ % len(self._sequence)]
        else:
            r = None if self.complexity_class is None else self.class_grid[self.complexity_class]
            theta = p.sample_instance(self.init_rng_, r)
            iid = -1
        self.oracle.set_instance(theta, iid, cls)
        self.means_ = p.means(self.oracle.theta)
        self.counts_ = np.zeros(self.n_q)
        self.sums_ = np.zeros(self.n_q)
        self.history_ = np.full((self.budget, 2), -1.0)
        self.t_ = 0
        self.done_ = False
        self._set_phase(decision=self.budget == 0)


    # ----------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a run (``seed`` given, or first call) or continue it with the next episode."""
        if seed is not None or not hasattr(self, "init_rng_"):
            super().reset(seed=seed)
            (self.init_rng_, self.noise_rng_, self.simulator_rng_, self.oracle_rng_) = (
                spawn_env_streams(self.np_random)
            )
            self.episode_ = 0
            self.oracle.records = []
        else:
            self.episode_ += 1
        self._new_episode(options)
        return self._obs(), {INFO_EPISODE: self.episode_, INFO_ACTION_MASK: self.action_mask()}

    def step(self, action):
        """Ask a query (query phase) or announce a hypothesis (decision step)."""
        if not hasattr(self, "t_"):
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        if self.done_:
            raise gym.error.ResetNeeded("the episode is over; call reset() for the next one")
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise BanditlabError(
                f"action: expected an integer in [0, {self.n_q + self.n_h}), got {action!r}"
            )
        a = int(action)
        decision = self.t_ >= self.budget
        if decision and not self.n_q <= a < self.n_q + self.n_h:
            raise BanditlabError(
                f"action: {a} is not a hypothesis; at the decision step only actions in "
                f"[{self.n_q}, {self.n_q + self.n_h}) are allowed"
            )
        if not decision and not 0 <= a < self.n_q:
            raise BanditlabError(
                f"action: {a} is not a query; during the query phase (t={self.t_} < "
                f"T={self.budget}) only actions in [0, {self.n_q}) are allowed"
            )
        info: dict[str, Any] = {INFO_EPISODE: self.episode_}
        if not decision:
            if self.provider.noise_kind() == "normal":
                u = float(self.noise_rng_.standard_normal())
            else:
                u = float(self.noise_rng_.random())
            y = self.provider.response(self.oracle.theta, a, u, self.oracle.z_star)
            self.history_[self.t_] = (a, y)
            self.counts_[a] += 1
            self.sums_[a] += y
            self.t_ += 1
            reward, loss, correct = 0.0, 0.0, 0.0
            info["query"] = a
            info["response"] = y
            self._set_phase(decision=self.t_ >= self.budget)
            terminated = False
        else:
            z_hat = a - self.n_q
            loss = float(self.provider.loss(z_hat, self.oracle.theta, self.loss_kind))
            correct = 1.0 if z_hat == self.oracle.z_star else 0.0
            reward = -loss if loss else 0.0
            self.t_ += 1
            self.done_ = True
            self.oracle.record(loss)
            self._set_phase(decision=False)  # the next step is the next episode's first query
            terminated = True
        info[INFO_T] = self.t_
        info[INFO_EXPECTED_REWARD] = reward  # the loss is deterministic given ẑ and θ
        info[INFO_OPTIMAL_EXPECTED_REWARD] = 0.0
        info[INFO_LOSS] = loss
        info["correct"] = correct
        info[INFO_ACTION_MASK] = self.action_mask()
        return self._obs(), reward, terminated, False, info
