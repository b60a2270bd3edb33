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
    PicklableMappingsMixin,
    spawn_env_streams,
)
from banditlab.envs.advmdp.model import (
    advmdp_occupancy,
    advmdp_sample_from_starts,
    advmdp_sample_trajectories,
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

    Attributes:
        mode: ``"sample"`` or ``"exact"``.
        known_constants: The env's known constants (H, N, A, d, n_episodes, features).
        sim_calls: Trajectories drawn since the last ``reset(seed)``.
        exact_calls: Exact-mode queries since the last ``reset(seed)``.
    """

    def __init__(self, env: AdvLinearQMDP):
        self._phi = env.phi
        self._P = env.P
        self._cumP = env.cumP
        self.mode = env.simulator_mode
        self.H, self.N, self.A, self.d = env.phi.shape
        self.rng_ = None
        self.sim_calls = 0
        self.exact_calls = 0
        self.known_constants = env.known_constants


    def _reset(self, rng: np.random.Generator) -> None:
        self.rng_ = rng
        self.sim_calls = 0
        self.exact_calls = 0

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
            out = advmdp_sample_from_starts(
                self._cumP, cumulative_rows(pi), n, starts.astype(np.int64), self.rng_
            )
            self.sim_calls += n * starts.shape[0]
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
        out = advmdp_sample_trajectories(
            self._cumP, cumulative_rows(pi), n, h0, s0, a0, self.rng_
        )
        self.sim_calls += n
        return out

    def _require_exact(self, what: str) -> None:
        if self.mode != "exact":
            raise BanditlabError(
                f"simulator: {what} needs simulator_mode='exact' (this env uses {self.mode!r})"
            )

    def occupancy(self, pi_table) -> np.ndarray:
        """Exact occupancy ``q[h, s, a]`` of ``pi_table`` (exact mode only)."""
        self._require_exact("occupancy()")
        pi = validate_policy_table(pi_table, self.H, self.N, self.A, "pi_table")
        self.exact_calls += 1
        return advmdp_occupancy(self._P, pi)

    def transition(self, h: int, s: int, a: int) -> np.ndarray:
        """Exact next-state distribution float64[N] of ``(h, s, a)`` (exact mode only)."""
        self._require_exact("transition()")
        if not (0 <= h < self.H and 0 <= s < self.N and 0 <= a < self.A):
            raise BanditlabError(f"(h, s, a): ({h}, {s}, {a}) is out of range")
        self.exact_calls += 1
        return self._P[h, s, a].copy()

    def transitions(self) -> np.ndarray:
        """All exact transitions float64[H, N, A, N] at once (exact mode only)."""
        self._require_exact("transitions()")
        self.exact_calls += 1
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
        self.simulator = AdvLinearQMDPSimulator(self)

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
        if hasattr(self, "simulator"):
            self.simulator.known_constants = self.known_constants

    # ----------------------------------------------------------------- schedule
    def _generate_schedule(self, rng: np.random.Generator) -> np.ndarray:
        K = self.n_episodes
        if self.schedule == "stationary":
            return np.ones(K, dtype=bool)
        if self.schedule == "iid_mix":
            return rng.random(K) < self.p_mix
        if self.schedule == "switch_half":
            return np.arange(K) < K // 2
        if self.schedule == "switch_p":
            return np.arange(K) < int(np.floor(self.p_mix * K))
        # doubling_blocks: block j has length 2**j, blocks alternate A, B, A, ...
        idx = np.arange(K) + 1
        block = np.floor(np.log2(idx)).astype(np.int64)
        return block % 2 == 0

    # ----------------------------------------------------------------- gym API
    def _obs(self) -> dict[str, Any]:
        return {
            "h": np.int64(self.h_),
            "s": np.int64(self.s_),
            "phi": self.phi[self.h_, self.s_].copy(),
        }

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
            self.is_a_ = self._generate_schedule(self.adversary_rng_)
            self.oracle.set_schedule(self.is_a_)
            self.simulator._reset(simulator_rng)
            self.episode_ = 0
            self.sim_seen_ = 0
        else:
            if self.in_episode_:
                self.episode_ += 1  # abandon the unfinished episode
            # after a terminated episode, episode_ already points at the next one
        self.h_ = 0
        self.s_ = 0
        self.in_episode_ = False
        self.oracle.episode_ = self.episode_
        return self._obs(), {INFO_EPISODE: int(self.episode_)}

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
        # episodes past the run (never played by the harness) reuse the schedule cyclically
        g = self.g_a[h] if self.is_a_[k % self.is_a_.shape[0]] else self.g_b[h]
        loss = float(self.phi[h, s, a] @ g)
        u = self.noise_rng_.random()  # exactly one draw per step, whatever the action
        self.in_episode_ = True
        terminated = h + 1 >= self.H
        total = self.simulator.sim_calls
        info: dict[str, Any] = {
            INFO_T: h + 1,
            INFO_EPISODE: int(k),
            "layer": int(h),
            "state": int(s),
            INFO_LOSS: loss,
            INFO_EXPECTED_REWARD: -loss,
            "sim_calls": int(total - self.sim_seen_),
            "sim_calls_total": int(total),
        }
        self.sim_seen_ = total
        if terminated:
            self.episode_ += 1
            self.in_episode_ = False
            self.oracle.episode_ = self.episode_
            obs = self._obs_start()
            self.h_ = self.H  # marks the episode as over until reset()
        else:
            cum = self.cumP[h, s, a]
            s2 = int(np.searchsorted(cum, u, side="right"))
            self.h_, self.s_ = h + 1, min(s2, self.N - 1)
            obs = self._obs()
        return obs, -loss, terminated, False, info

    def _obs_start(self) -> dict[str, Any]:
        return {"h": np.int64(0), "s": np.int64(0), "phi": self.phi[0, 0].copy()}
