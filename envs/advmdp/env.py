"""Adversarial episodic MDP whose Q-function is exactly linear in known features.

The simulator handle and the env class. The instance (a layered latent-variable MDP,
a banditlab design [I]) and every kernel live in :mod:`banditlab.envs.advmdp.model`:
features ``phi_h(s, a)`` lie in the simplex of R^d, transitions are
``P_h(s'|s, a) = sum_z phi_h(s, a)_z mu_h[z, s']`` and losses are
``l_k(s, a) = <phi_h(s, a), g_{k, h}>``, so ``Q^pi_k(s, a) = <phi_h(s, a), g_{k, h} +
mu_h V^pi_{k, h+1}>`` for every policy: linear-Q holds exactly.

References:
    Dai, Luo, Wei, Zimmert, "Refined Regret for Adversarial MDPs with Linear
    Function Approximation", ICML 2023 (arXiv 2301.12942); Luo, Wei, Lee,
    "Policy Optimization in Adversarial MDPs: Improved Exploration via Dilated
    Bonuses", NeurIPS 2021 (arXiv 2107.08346). The instance construction and the
    loss schedules are banditlab designs, not taken from the papers (which, as
    far as we know, contain no experiments).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from banditlab.core import (
    INFO_EPISODE,
    INFO_EXPECTED_REWARD,
    INFO_LOSS,
    INFO_T,
    BanditlabError,
    EnvKernel,
    PicklableMappingsMixin,
    spawn_env_streams,
)
from banditlab.envs.advmdp.kernel import (
    AdvMDPSimHandle,
    advmdp_begin_episode,
    advmdp_checkpoint,
    advmdp_init,
    advmdp_observe,
    advmdp_params,
    advmdp_policy_value,
    advmdp_schedule,
    advmdp_step,
    advmdp_terminated,
    generator_caller,
    sim_occupancy,
    sim_sample,
)
from banditlab.envs.advmdp.model import (
    build_instance,
    cumulative_rows,
    validate_features,
    validate_policy_table,
)
from banditlab.envs.advmdp.oracle import AdvLinearQMDPOracle
from banditlab.validation import (
    Array,
    Boolean,
    Interval,
    Options,
    validate_params,
    validate_value,
)

__all__ = [
    "AdvLinearQMDP",
    "AdvLinearMDP",
    "AdvLinearQMDPSimulator",
    "SCHEDULES",
]

SCHEDULES = ("stationary", "iid_mix", "switch_half", "switch_p", "doubling_blocks")

_POSITIVE = Interval("real", 0.0, None, closed="neither")
#: Constructor arguments, checked in this order before the cross-argument checks.
_CONSTRAINTS = {
    "H": Interval("int", 1),
    "N": Interval("int", 1),
    "A": Interval("int", 1),
    "d": [None, Interval("int", 1)],
    "alpha_phi": _POSITIVE,
    "alpha_mu": _POSITIVE,
    "schedule": Options(*SCHEDULES),
    "p_mix": Interval("real", 0.0, 1.0),
    "n_episodes": Interval("int", 1),
    "instance_seed": Interval("int", 0),
    "tabular": Boolean(),
    "ill_conditioned": Boolean(),
    "simulator_mode": Options("sample", "exact"),
    "features": [None, Array("float", ndim=4)],
}


def _resolve_d(v: dict[str, Any]) -> tuple[int, np.ndarray | None]:
    """Feature dimension and checked custom features of validated arguments ``v``.

    Raises:
        BanditlabError: When ``d``, ``tabular``, ``ill_conditioned`` and ``features``
            disagree.
    """
    H, N, A, d = v["H"], v["N"], v["A"], v["d"]
    if v["tabular"] and v["ill_conditioned"]:
        raise BanditlabError("ill_conditioned: cannot be combined with tabular=True")
    phi = None
    if v["features"] is not None:
        if v["tabular"]:
            raise BanditlabError("features: cannot be combined with tabular=True")
        phi = validate_features(v["features"], H, N, A)
        if d is not None and d != phi.shape[3]:
            raise BanditlabError(f"d: {d!r} disagrees with features.shape[3]={phi.shape[3]}")
        d = phi.shape[3]
    elif v["tabular"]:
        if d is not None and d != N * A:
            raise BanditlabError(f"d: with tabular=True d must be N*A={N * A} (or None)")
        d = N * A
    elif d is None:
        d = 4
    return validate_value("d", d, Interval("int", 2 if v["ill_conditioned"] else 1)), phi


# --------------------------------------------------------------------------- simulator
class AdvLinearQMDPSimulator(PicklableMappingsMixin):
    """Agent-visible simulator of an :class:`AdvLinearQMDP` (never reveals losses).

    Draws only from the env's ``simulator`` stream (spawned at ``reset(seed)``),
    so calls never perturb the main trajectory. ``sim_calls`` counts sampled
    trajectories; exact-mode queries (``occupancy``, ``transition``) are counted
    separately in ``exact_calls`` (they stand for the infinite-sample limit).
    Agent kernels query the same simulator in compiled code through ``handle_`` (an
    :class:`~banditlab.envs.advmdp.kernel.AdvMDPSimHandle`, with the same counters) and
    ``rng_``; the methods below call the same kernels.

    Attributes:
        mode: ``"sample"`` or ``"exact"``.
        known_constants: The env's known constants (H, N, A, d, n_episodes, features).
        sim_calls: Trajectories drawn since the last ``reset(seed)``.
        exact_calls: Exact-mode queries since the last ``reset(seed)``.
        handle_: The kernel handle (counters shared with the env's kernel state).
        rng_: The env's simulator stream (``None`` before the env's first reset).
    """

    def __init__(self, env: AdvLinearQMDP):
        self._phi = env.phi
        self._P = env.P
        self._cumP = env.cumP
        self.mode = env.simulator_mode
        self.H, self.N, self.A, self.d = env.phi.shape
        self.rng_ = None
        self.handle_ = AdvMDPSimHandle(env.cumP, env.P, self.mode == "exact",
                                       np.zeros(2, np.int64))
        self.known_constants = env.known_constants

    @property
    def sim_calls(self) -> int:
        """Trajectories drawn since the last ``reset(seed)``."""
        return int(self.handle_.counts[0])

    @property
    def exact_calls(self) -> int:
        """Exact-mode queries since the last ``reset(seed)``."""
        return int(self.handle_.counts[1])

    def _reset(self, rng: np.random.Generator, counts: np.ndarray) -> None:
        """Bind the run's stream and counters (int64[2], zeroed by the env's kernel init)."""
        self.rng_ = rng
        self.handle_ = self.handle_._replace(counts=counts)

    def features(self) -> np.ndarray:
        """float64[H, N, A, d] features (layer 0 padded with zeros beyond state 0)."""
        return self._phi.copy()

    def sample(self, pi_table, n: int, start=None) -> np.ndarray:
        """Draw ``n`` fresh trajectories under ``pi_table``.

        Args:
            pi_table: float64[H, N, A] policy table (or per-layer list).
            n: Number of trajectories (>= 1).
            start: Optional ``(h, s, a)`` start pair; the trajectory then begins at
                layer ``h`` in state ``s`` with action ``a`` and follows ``pi_table``.
                Or an int array of shape (m, 3) of start triples (one batched call;
                counts ``m * n`` trajectories).

        Returns:
            int64[n, H, 2] of ``(s_h, a_h)`` pairs (layers before ``h`` hold -1), or
            int64[m, n, H, 2] for a batch of start triples.

        Raises:
            BanditlabError: On a bad policy table, ``n`` or start pair, or before
                the env has been reset.
        """
        if self.rng_ is None:
            raise BanditlabError("simulator: the env has not been reset; call env.reset(seed=...)")
        pi = validate_policy_table(pi_table, self.H, self.N, self.A, "pi_table")
        n = validate_value("n", n, Interval("int", 1))
        if start is not None and np.ndim(start) == 2:
            starts = np.asarray(start)
            if starts.shape[1] != 3 or not np.issubdtype(starts.dtype, np.integer):
                raise BanditlabError("start: expected integer triples (h, s, a), shape (m, 3)")
            h, s, a = starts[:, 0], starts[:, 1], starts[:, 2]
            n_h = np.where(h == 0, 1, self.N)
            if np.any((h < 0) | (h >= self.H) | (s < 0) | (s >= n_h) | (a < 0) | (a >= self.A)):
                raise BanditlabError("start: some (h, s, a) triple is out of range")
            out = np.empty((starts.shape[0], n, self.H, 2), np.int64)
            sim_sample(self.handle_, out, cumulative_rows(pi), starts.astype(np.int64),
                       self.rng_)
            return out
        if start is None:
            h0, s0, a0 = -1, 0, 0
        else:
            try:
                h0, s0, a0 = (int(x) for x in start)
            except (TypeError, ValueError):
                raise BanditlabError("start: expected a triple (h, s, a) of integers") from None
            n_h = 1 if h0 == 0 else self.N
            if not (0 <= h0 < self.H and 0 <= s0 < n_h and 0 <= a0 < self.A):
                raise BanditlabError(
                    f"start: ({h0}, {s0}, {a0}) is not a valid (layer, state, action) triple"
                )
        out = np.empty((1, n, self.H, 2), np.int64)
        sim_sample(self.handle_, out, cumulative_rows(pi),
                   np.array([[h0, s0, a0]], dtype=np.int64), self.rng_)
        return out[0]

    def _require_exact(self, what: str) -> None:
        if self.mode != "exact":
            raise BanditlabError(
                f"simulator: {what} needs simulator_mode='exact' (this env uses {self.mode!r})"
            )

    def occupancy(self, pi_table) -> np.ndarray:
        """Exact occupancy ``q[h, s, a]`` of ``pi_table`` (exact mode only)."""
        self._require_exact("occupancy()")
        pi = validate_policy_table(pi_table, self.H, self.N, self.A, "pi_table")
        return sim_occupancy(self.handle_, pi)

    def transition(self, h: int, s: int, a: int) -> np.ndarray:
        """Exact next-state distribution float64[N] of ``(h, s, a)`` (exact mode only)."""
        self._require_exact("transition()")
        if not (0 <= h < self.H and 0 <= s < self.N and 0 <= a < self.A):
            raise BanditlabError(f"(h, s, a): ({h}, {s}, {a}) is out of range")
        self.handle_.counts[1] += 1
        return self._P[h, s, a].copy()

    def transitions(self) -> np.ndarray:
        """All exact transitions float64[H, N, A, N] at once (exact mode only)."""
        self._require_exact("transitions()")
        self.handle_.counts[1] += 1
        return self._P.copy()


# --------------------------------------------------------------------------- env
class AdvLinearQMDP(PicklableMappingsMixin, gym.Env):
    """Layered episodic MDP with oblivious adversarial losses and exactly linear Q.

    ## Description
    ``H`` layers; layer 0 has the single start state, layers ``1..H-1`` have ``N``
    states. The instance (features, latent kernels ``mu``, loss vector ``g^A``) is
    drawn from ``instance_seed``; ``g^B = 1 - g^A``. At ``reset(seed)`` the
    adversary stream pre-generates which of ``g^A``/``g^B`` each episode uses
    (oblivious adversary). Construction and schedules are banditlab designs [I].

    ## Action Space
    ``Discrete(A)``.

    ## Observation Space
    ``Dict(h=Discrete(H), s=Discrete(N), phi=Box(0, 1, (A, d)))``: the layer, the
    state and the features ``phi_h(s, .)`` of the current state. After the last
    step of an episode the observation is the start state of the next one.

    ## Reward
    ``-l_k(s, a) = -<phi_h(s, a), g_{k, h}>`` (bandit feedback). Losses are
    deterministic given ``(k, s, a)``; the randomness is in the trajectory: the next
    state is drawn by inverse CDF from exactly one ``noise`` uniform per step,
    whatever the action (common random numbers).

    ## Episodes (run kind ``episodic``)
    Each episode ends with ``terminated=True`` after ``H`` steps; ``reset()`` without
    a seed continues with the next episode, ``reset(seed=...)`` starts a new run
    (episode 0) and regenerates the schedule. A run is ``n_episodes`` episodes;
    episodes played past the run (the harness never does) reuse the schedule
    cyclically, ``k mod n_episodes``.

    ## Regret
    ``static`` (rounds = episodes): best fixed policy in hindsight, exact, see
    :class:`~banditlab.envs.advmdp.oracle.AdvLinearQMDPOracle`.
    ``oracle.policy_expected_reward(pi)`` gives the exact expected reward of the
    current episode for agents exposing ``policy_table()``.

    ## Information
    ``t`` (step within the episode, 1..H), ``episode_index`` (k from 0), ``layer`` and
    ``state`` (before the step), ``loss``, ``expected_reward`` (= reward),
    ``sim_calls`` (simulator trajectories drawn since the previous step: the harness
    accumulates ``extra_metrics``, so its ``sim_calls`` curve is the cumulative count)
    and ``sim_calls_total`` (cumulative). ``extra_metrics = ("loss", "sim_calls")``.

    ## Simulator
    ``env.unwrapped.simulator`` (:class:`AdvLinearQMDPSimulator`), passed to
    agents tagged ``needs_simulator``.

    ## Arguments
    * ``H`` (3), ``N`` (4), ``A`` (3), ``d`` (None: 4, or ``N * A`` when ``tabular``).
    * ``alpha_phi`` (0.3), ``alpha_mu`` (0.5): Dirichlet concentrations.
    * ``schedule``: one of ``stationary``, ``iid_mix`` (default), ``switch_half``,
      ``switch_p`` (``g^A`` for the first ``floor(p_mix K)`` episodes, then ``g^B``; a
      banditlab addition, see below), ``doubling_blocks`` (blocks of length 1, 2, 4, ...
      alternating A, B). Caveat: because ``g^B = 1 - g^A``, under ``switch_half`` (even K)
      the mean loss is 1/2 on every pair, so every policy is a best fixed policy: uniform
      play has zero static regret and adaptive learners negative regret. ``switch_p``
      with ``p_mix != 1/2`` keeps a switch without that degeneracy.
    * ``p_mix`` (0.6): probability of ``g^A`` under ``iid_mix``; switch point of ``switch_p``.
    * ``n_episodes`` (2**14): K, the run length.
    * ``instance_seed`` (0).
    * ``tabular`` (False): one-hot features on (s, a), ``d = N * A``.
    * ``ill_conditioned`` (False): the last latent direction is reachable only
      along the chain of (state 0, action 0) pairs, which has zero loss [I; untuned].
    * ``simulator_mode`` (``"sample"`` or ``"exact"``).
    * ``features`` (None): optional float64[H, N, A, d] replacing the Dirichlet
      features (rows of reachable pairs in the simplex, hence norm <= 1).

    ## Version History
    * v0: initial version.
    """

    family = "advmdp"

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    run_kind: ClassVar[str] = "episodic"
    extra_metrics: ClassVar[tuple[str, ...]] = ("loss", "sim_calls")

    def __init__(
        self,
        H: int = 3,
        N: int = 4,
        A: int = 3,
        d: int | None = None,
        alpha_phi: float = 0.3,
        alpha_mu: float = 0.5,
        schedule: str = "iid_mix",
        p_mix: float = 0.6,
        n_episodes: int = 2**14,
        instance_seed: int = 0,
        tabular: bool = False,
        ill_conditioned: bool = False,
        simulator_mode: str = "sample",
        features=None,
    ):
        v = validate_params(_CONSTRAINTS, {
            "H": H, "N": N, "A": A, "d": d, "alpha_phi": alpha_phi, "alpha_mu": alpha_mu,
            "schedule": schedule, "p_mix": p_mix, "n_episodes": n_episodes,
            "instance_seed": instance_seed, "tabular": tabular,
            "ill_conditioned": ill_conditioned, "simulator_mode": simulator_mode,
            "features": features,
        })
        v["d"], phi = _resolve_d(v)
        for name in _CONSTRAINTS:  # every argument, validated, under its own name
            if name != "features":
                setattr(self, name, v[name])
        H, N, A = self.H, self.N, self.A
        self.phi, self.mu, self.g_a, self.g_b, self.P, self.cumP = build_instance(
            H, N, A, self.d, alpha_phi=self.alpha_phi, alpha_mu=self.alpha_mu,
            instance_seed=self.instance_seed, tabular=self.tabular,
            ill_conditioned=self.ill_conditioned, features=phi,
        )
        self.action_space = gym.spaces.Discrete(A)
        self.observation_space = gym.spaces.Dict(
            {
                "h": gym.spaces.Discrete(H),
                "s": gym.spaces.Discrete(N),
                "phi": gym.spaces.Box(0.0, 1.0, (A, self.d), np.float64),
            }
        )
        self.oracle = AdvLinearQMDPOracle(self.P, self.phi, self.mu, self.g_a, self.g_b)
        self.known_constants = MappingProxyType(
            {"H": H, "N": N, "A": A, "d": self.d, "n_episodes": self.n_episodes,
             "features": self.phi.copy()}
        )
        self.kernel = EnvKernel(
            params=advmdp_params(self.phi, self.P, self.cumP, self.g_a, self.g_b,
                                 self.oracle.loss_tables, self.schedule, self.p_mix,
                                 self.n_episodes, len(self.extra_metrics)),
            init=advmdp_init, step=advmdp_step, observe=advmdp_observe,
            checkpoint=advmdp_checkpoint, comparator_kinds=(),
            extra_metrics=self.extra_metrics, begin_episode=advmdp_begin_episode,
            terminated=advmdp_terminated, policy_value=advmdp_policy_value,
        )
        self.simulator = self._build_simulator()

    def _build_simulator(self) -> AdvLinearQMDPSimulator | None:
        """The agent-visible simulator handle (:class:`AdvLinearMDP` has none)."""
        return AdvLinearQMDPSimulator(self)

    # ----------------------------------------------------------------- run length
    @property
    def run_length(self) -> int:
        """Number of episodes of a run (``n_episodes``); settable before ``reset(seed)``."""
        return self.n_episodes

    @run_length.setter
    def run_length(self, value: int) -> None:
        self.n_episodes = validate_value("run_length", value, Interval("int", 1))
        self.known_constants = MappingProxyType(
            {**self.known_constants, "n_episodes": self.n_episodes}
        )
        self.kernel = self.kernel._replace(
            params=self.kernel.params._replace(n_episodes=self.n_episodes))
        if getattr(self, "simulator", None) is not None:
            self.simulator.known_constants = self.known_constants

    # ----------------------------------------------------------------- schedule
    def _generate_schedule(self, rng: np.random.Generator) -> np.ndarray:
        """bool[K] schedule (:func:`~banditlab.envs.advmdp.kernel.advmdp_schedule`)."""
        return advmdp_schedule(self.kernel.params, rng)

    # ----------------------------------------------------------------- kernel state
    # Position of the run, read from the kernel state (int64[5] ``pos``).
    h_ = property(lambda self: int(self.state_.pos[0]), doc="Current layer (H: terminated).")
    s_ = property(lambda self: int(self.state_.pos[1]), doc="Current state.")
    episode_ = property(lambda self: int(self.state_.pos[2]), doc="Current episode index.")
    in_episode_ = property(lambda self: bool(self.state_.pos[3]),
                           doc="Whether a step of the current episode was played.")

    def kernel_obs_to_obs(self, kobs) -> dict[str, Any]:
        """The Gymnasium observation of a kernel observation ``(h, s)`` (float64[2])."""
        h, s = int(kobs[0]), int(kobs[1])
        return {"h": np.int64(h), "s": np.int64(s), "phi": self.phi[h, s].copy()}

    @staticmethod
    def obs_to_kernel_obs(obs) -> np.ndarray:
        """float64[2] ``(h, s)``: the kernel observation of a Gymnasium observation."""
        return np.array([float(obs["h"]), float(obs["s"])])

    # ----------------------------------------------------------------- gym API
    def _obs(self) -> dict[str, Any]:
        # the buffer advmdp_observe returns, read without a compiled call
        return self.kernel_obs_to_obs(self.state_.obs[self.state_.pos[4]])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a run (with ``seed`` or on first use) or continue with the next episode.

        Returns:
            ``(obs, info)`` with ``info = {"episode_index": k}``.
        """
        if seed is not None or not hasattr(self, "noise_rng_"):
            super().reset(seed=seed)
            (self.adversary_rng_, self.noise_rng_, simulator_rng, self.oracle_rng_) = (
                spawn_env_streams(self.np_random)
            )
            self.state_ = self.kernel.init(self.kernel.params, self.adversary_rng_)
            self.is_a_ = self.state_.is_a
            self.oracle.set_schedule(self.is_a_)
            if self.simulator is not None:
                self.simulator._reset(simulator_rng, self.state_.sim_counts)
            self.sim_seen_ = 0
        else:
            # abandons an unfinished episode; after a terminated one, the episode index
            # already points at the next one
            advmdp_begin_episode(self.state_, self.kernel.params)
        self.oracle.episode_ = self.episode_
        return self._obs(), {INFO_EPISODE: self.episode_}

    def _validate_action(self, action: Any) -> int:
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise BanditlabError(f"action: expected an integer in [0, {self.A}), got {action!r}")
        if not 0 <= int(action) < self.A:
            raise BanditlabError(f"action: {int(action)} is outside the action space [0, {self.A})")
        return int(action)

    def step(self, action):
        """One step of the current episode; see the class docstring for ``info``."""
        if not hasattr(self, "noise_rng_"):
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        if self.h_ >= self.H:
            raise gym.error.ResetNeeded("the episode has terminated; call reset()")
        a = self._validate_action(action)
        h, s, k = self.h_, self.s_, self.episode_
        # one noise draw per step whatever the action; episodes past the run (never played
        # by the harness) reuse the schedule cyclically
        reward, _, _ = generator_caller(advmdp_step)(
            self.state_, self.kernel.params, np.int64(a), self.noise_rng_)
        reward = float(reward)
        loss = -reward
        terminated = self.h_ >= self.H  # advmdp_terminated, read without a compiled call
        info: dict[str, Any] = {
            INFO_T: h + 1,
            INFO_EPISODE: int(k),
            "layer": int(h),
            "state": int(s),
            INFO_LOSS: loss,
            INFO_EXPECTED_REWARD: -loss,
        }
        if self.simulator is not None:
            total = self.simulator.sim_calls
            info["sim_calls"] = int(total - self.sim_seen_)
            info["sim_calls_total"] = int(total)
            self.sim_seen_ = total
        self.oracle.episode_ = self.episode_
        # after the last step: the start state of the next episode (layer H marks the
        # episode as over until reset())
        return self._obs(), reward, terminated, False, info


# --------------------------------------------------------------------------- no simulator
class AdvLinearMDP(AdvLinearQMDP):
    """The same adversarial linear MDP with no simulator: the setting of simulator-free learners.

    ## Description
    The instance of :class:`AdvLinearQMDP` (same arguments except ``simulator_mode``, same
    draws from ``instance_seed``, same streams at ``reset(seed)``, so both envs face the
    same adversary and the same transition noise for one seed). It is a linear MDP in
    the sense of Luo, Wei & Lee (2021) and Dai, Luo, Wei & Zimmert (2023):
    ``P_h(s'|s, a) = <phi_h(s, a), mu_h[:, s']>`` with ``mu_h`` (float64[d, N]) nonnegative
    rows summing to one, and ``l_k(s, a) = <phi_h(s, a), g_{k, h}>``. The learner knows the
    features (known constant ``features``) but neither ``mu`` nor the losses, and has no
    simulator: ``env.unwrapped.simulator`` is ``None``, so agents tagged
    ``needs_simulator`` are refused by the harness. Everything it learns comes from its
    own trajectories.

    ## Observation, action, reward, episodes, regret
    As :class:`AdvLinearQMDP`; the comparator is the exact best fixed policy in hindsight
    (:class:`~banditlab.envs.advmdp.oracle.AdvLinearQMDPOracle`).

    ## Information
    ``t``, ``episode_index``, ``layer``, ``state``, ``loss``, ``expected_reward`` (no
    simulator counts). ``extra_metrics = ("loss",)``.

    ## Arguments
    ``H``, ``N``, ``A``, ``d``, ``alpha_phi``, ``alpha_mu``, ``schedule``, ``p_mix``,
    ``n_episodes``, ``instance_seed``, ``tabular``, ``ill_conditioned``, ``features``:
    as :class:`AdvLinearQMDP`.

    ## Version History
    * v0: initial version.
    """

    extra_metrics: ClassVar[tuple[str, ...]] = ("loss",)

    def __init__(
        self,
        H: int = 3,
        N: int = 4,
        A: int = 3,
        d: int | None = None,
        alpha_phi: float = 0.3,
        alpha_mu: float = 0.5,
        schedule: str = "iid_mix",
        p_mix: float = 0.6,
        n_episodes: int = 2**14,
        instance_seed: int = 0,
        tabular: bool = False,
        ill_conditioned: bool = False,
        features=None,
    ):
        super().__init__(H=H, N=N, A=A, d=d, alpha_phi=alpha_phi, alpha_mu=alpha_mu,
                         schedule=schedule, p_mix=p_mix, n_episodes=n_episodes,
                         instance_seed=instance_seed, tabular=tabular,
                         ill_conditioned=ill_conditioned, simulator_mode="sample",
                         features=features)
        del self.simulator_mode  # not an argument of this env

    def _build_simulator(self) -> None:
        """No simulator."""
        return None
