"""Adversarial episodic MDP whose Q-function is exactly linear in known features.

Kernels on top, the simulator handle and the env class below. The instance is a
layered latent-variable MDP (spec ``adversarial_linear_mdp.md`` §3, a banditlab
design [I]): features ``phi_h(s, a)`` lie in the simplex of R^d, transitions are
``P_h(s'|s, a) = sum_z phi_h(s, a)_z mu_h[z, s']`` and losses are
``l_k(s, a) = <phi_h(s, a), g_{k, h}>``, so ``Q^pi_k(s, a) = <phi_h(s, a), g_{k, h} +
mu_h V^pi_{k, h+1}>`` for every policy: linear-Q holds exactly.

References:
    Dai, Luo, Wei, Zimmert, "Refined Regret for Adversarial MDPs with Linear
    Function Approximation", ICML 2023 (arXiv 2301.12942); Luo, Wei, Lee,
    "Policy Optimization in Adversarial MDPs: Improved Exploration via Dilated
    Bonuses", NeurIPS 2021 (arXiv 2107.08346). The instance construction and the
    loss schedules are banditlab designs, not taken from the papers (which, as
    far as we recall [M], contain no experiments).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from numba import njit

from banditlab.core import (
    INFO_EPISODE,
    INFO_EXPECTED_REWARD,
    INFO_LOSS,
    INFO_T,
    BanditlabError,
    PicklableMappingsMixin,
    spawn_env_streams,
)
from banditlab.envs.advmdp.oracle import (
    AdvLinearQMDPOracle,
    advmdp_occupancy,
    validate_policy_table,
)

__all__ = [
    "AdvLinearQMDP",
    "AdvLinearQMDPSimulator",
    "advmdp_sample_from_starts",
    "advmdp_sample_trajectories",
    "SCHEDULES",
]

SCHEDULES = ("stationary", "iid_mix", "switch_half", "switch_p", "doubling_blocks")


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def advmdp_sample_from_starts(cumP, cumpi, n, starts, rng):
    """Draw ``n`` trajectories of (state, action) pairs from each start (the simulator's kernel).

    Each step takes exactly two uniforms (next state, action) from ``rng``; indices
    are drawn by inverse CDF (smallest ``j`` with ``u < cum[j]``).

    Args:
        cumP: float64[H, N, A, N], cumulative transition rows (last entry 1).
        cumpi: float64[H, N, A], cumulative policy rows (last entry 1).
        n: Trajectories per start.
        starts: int64[m, 3] of ``(h, s, a)``; ``h = -1`` starts at the start state of
            layer 0 with an action drawn from the policy.
        rng: The simulator's generator.

    Returns:
        int64[m, n, H, 2] of ``(s_h, a_h)``; layers before the start layer hold -1.
    """
    H, N, A = cumpi.shape
    m = starts.shape[0]
    out = np.full((m, n, H, 2), -1, np.int64)
    for k in range(m):
        for i in range(n):
            if starts[k, 0] < 0:
                h = 0
                s = 0
                u = rng.random()
                a = 0
                while a < A - 1 and u >= cumpi[0, 0, a]:
                    a += 1
            else:
                h = starts[k, 0]
                s = starts[k, 1]
                a = starts[k, 2]
            out[k, i, h, 0] = s
            out[k, i, h, 1] = a
            while h + 1 < H:
                u = rng.random()
                s2 = 0
                while s2 < N - 1 and u >= cumP[h, s, a, s2]:
                    s2 += 1
                s = s2
                h += 1
                u = rng.random()
                a = 0
                while a < A - 1 and u >= cumpi[h, s, a]:
                    a += 1
                out[k, i, h, 0] = s
                out[k, i, h, 1] = a
    return out


def advmdp_sample_trajectories(cumP, cumpi, n, h0, s0, a0, rng):
    """int64[n, H, 2]: ``n`` trajectories from one start (``h0 = -1``: the start state).

    Thin wrapper of :func:`advmdp_sample_from_starts` (one start triple).
    """
    starts = np.array([[h0, s0, a0]], dtype=np.int64)
    return advmdp_sample_from_starts(cumP, cumpi, n, starts, rng)[0]


def _cumulative_rows(x: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis with the last entry forced to exactly 1."""
    c = np.cumsum(x, axis=-1)
    c[..., -1] = 1.0
    return np.ascontiguousarray(c)


# --------------------------------------------------------------------------- validation
def _int_param(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise BanditlabError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _pos_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise BanditlabError(f"{name}: expected a finite number > 0, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise BanditlabError(f"{name}: expected a finite number > 0, got {value!r}")
    return float(value)


def _bool_param(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise BanditlabError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def validate_features(features, H: int, N: int, A: int) -> np.ndarray:
    """Check user-supplied features: shape (H, N, A, d), finite, norm <= 1, rows in the simplex.

    Raises:
        BanditlabError: Naming ``features`` and what is wrong.
    """
    try:
        phi = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise BanditlabError("features: expected a float array of shape (H, N, A, d)") from None
    if phi.ndim != 4 or phi.shape[:3] != (H, N, A) or phi.shape[3] < 1:
        raise BanditlabError(f"features: expected shape ({H}, {N}, {A}, d), got {phi.shape}")
    if not np.all(np.isfinite(phi)):
        raise BanditlabError("features: entries must be finite")
    norms = np.linalg.norm(phi, axis=-1)
    if np.any(norms > 1.0 + 1e-12):
        raise BanditlabError(
            f"features: every ||phi(s, a)||_2 must be <= 1, got max {norms.max():.6g}"
        )
    rows = [phi[0, 0], phi[1:].reshape(-1, phi.shape[3])]
    if any(np.any(r < 0.0) or np.any(np.abs(r.sum(axis=-1) - 1.0) > 1e-9) for r in rows):
        raise BanditlabError(
            "features: every reachable phi_h(s, a) must lie in the probability simplex "
            "(entries >= 0 summing to 1; the latent-variable construction needs it)"
        )
    return np.ascontiguousarray(phi)


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
        n = _int_param("n", n, 1)
        if start is not None and np.ndim(start) == 2:
            starts = np.asarray(start)
            if starts.shape[1] != 3 or not np.issubdtype(starts.dtype, np.integer):
                raise BanditlabError("start: expected integer triples (h, s, a), shape (m, 3)")
            h, s, a = starts[:, 0], starts[:, 1], starts[:, 2]
            n_h = np.where(h == 0, 1, self.N)
            if np.any((h < 0) | (h >= self.H) | (s < 0) | (s >= n_h) | (a < 0) | (a >= self.A)):
                raise BanditlabError("start: some (h, s, a) triple is out of range")
            out = advmdp_sample_from_starts(
                self._cumP, _cumulative_rows(pi), n, starts.astype(np.int64), self.rng_
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
            self._cumP, _cumulative_rows(pi), n, h0, s0, a0, self.rng_
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
    ``t`` (step within the episode, 1..H), ``episode`` (k from 0), ``layer`` and
    ``state`` (before the step), ``loss``, ``expected_reward`` (= reward),
    ``sim_calls`` (simulator trajectories drawn since the previous step, so the
    harness's accumulated ``sim_calls`` curve is the cumulative count; the spec
    calls the info key cumulative, we emit increments for that reason) and
    ``sim_calls_total`` (cumulative). ``extra_metrics = ("loss", "sim_calls")``.

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
        self.H = _int_param("H", H, 1)
        self.N = _int_param("N", N, 1)
        self.A = _int_param("A", A, 1)
        self.alpha_phi = _pos_float("alpha_phi", alpha_phi)
        self.alpha_mu = _pos_float("alpha_mu", alpha_mu)
        if schedule not in SCHEDULES:
            raise BanditlabError(f"schedule: {schedule!r} is not one of {', '.join(SCHEDULES)}")
        self.schedule = schedule
        if isinstance(p_mix, bool) or not isinstance(p_mix, (int, float, np.number)) or not (
            0.0 <= p_mix <= 1.0
        ):
            raise BanditlabError(f"p_mix: expected a probability in [0, 1], got {p_mix!r}")
        self.p_mix = float(p_mix)
        self.n_episodes = _int_param("n_episodes", n_episodes, 1)
        self.instance_seed = _int_param("instance_seed", instance_seed, 0)
        self.tabular = _bool_param("tabular", tabular)
        self.ill_conditioned = _bool_param("ill_conditioned", ill_conditioned)
        if self.tabular and self.ill_conditioned:
            raise BanditlabError("ill_conditioned: cannot be combined with tabular=True")
        if simulator_mode not in ("sample", "exact"):
            raise BanditlabError(
                f"simulator_mode: {simulator_mode!r} is not one of 'sample', 'exact'"
            )
        self.simulator_mode = simulator_mode
        H, N, A = self.H, self.N, self.A
        if features is not None:
            if self.tabular:
                raise BanditlabError("features: cannot be combined with tabular=True")
            phi = validate_features(features, H, N, A)
            if d is not None and int(d) != phi.shape[3]:
                raise BanditlabError(f"d: {d!r} disagrees with features.shape[3]={phi.shape[3]}")
            d = phi.shape[3]
        elif self.tabular:
            if d is not None and d != N * A:
                raise BanditlabError(f"d: with tabular=True d must be N*A={N * A} (or None)")
            d = N * A
        else:
            d = 4 if d is None else d
        self.d = _int_param("d", d, 2 if self.ill_conditioned else 1)

        rng = np.random.default_rng(self.instance_seed)
        n_lat = self.d - 1 if self.ill_conditioned else self.d
        if features is None:
            phi = np.zeros((H, N, A, self.d))
            for h in range(H):
                n_h = 1 if h == 0 else N
                if self.tabular:
                    for s in range(n_h):
                        for a in range(A):
                            phi[h, s, a, s * A + a] = 1.0
                elif n_lat == 1:
                    phi[h, :n_h, :, 0] = 1.0
                else:
                    phi[h, :n_h, :, :n_lat] = rng.dirichlet(
                        np.full(n_lat, self.alpha_phi), size=(n_h, A)
                    )
            if self.ill_conditioned:
                for h in range(H):
                    phi[h, 0, 0, :] = 0.0
                    phi[h, 0, 0, self.d - 1] = 1.0
            # renormalise exactly onto the simplex (Dirichlet draws can be off by ulps)
            sums = phi.sum(axis=-1, keepdims=True)
            phi = np.where(sums > 0, phi / np.where(sums > 0, sums, 1.0), 0.0)
        mu = np.zeros((H, self.d, N))
        for h in range(H - 1):
            mu[h] = rng.dirichlet(np.full(N, self.alpha_mu), size=self.d) if N > 1 else 1.0
            if self.ill_conditioned:
                mu[h, self.d - 1, :] = 0.0
                mu[h, self.d - 1, 0] = 1.0
        g_a = rng.random((H, self.d))
        g_b = 1.0 - g_a
        if self.ill_conditioned:
            g_a[:, self.d - 1] = 0.0
            g_b[:, self.d - 1] = 0.0
        self.phi = np.ascontiguousarray(phi)
        self.mu = mu
        self.g_a, self.g_b = g_a, g_b
        P = np.einsum("hsad,hdn->hsan", self.phi, mu)
        P[:, :, :, :] = np.where(P < 0, 0.0, P)
        self.P = np.ascontiguousarray(P)
        self.cumP = _cumulative_rows(self.P) if H > 1 else np.ones((H, N, A, N))

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
            {
                "H": H,
                "N": N,
                "A": A,
                "d": self.d,
                "n_episodes": self.n_episodes,
                "features": self.phi.copy(),
            }
        )
        self.simulator = AdvLinearQMDPSimulator(self)

    # ----------------------------------------------------------------- pickling

    # ----------------------------------------------------------------- run length
    @property
    def run_length(self) -> int:
        """Number of episodes of a run (``n_episodes``); settable before ``reset(seed)``."""
        return self.n_episodes

    @run_length.setter
    def run_length(self, value: int) -> None:
        self.n_episodes = _int_param("run_length", value, 1)
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
            ``(obs, info)`` with ``info = {"episode": k}``.
        """
        if seed is not None or not hasattr(self, "noise_rng_"):
            super().reset(seed=seed)
            (self.adversary_rng_, self.noise_rng_, simulator_rng, self.oracle_rng_) = (
                spawn_env_streams(self.np_random)
            )
            self.is_a_ = self._generate_schedule(self.adversary_rng_)
            self.oracle._set_schedule(self.is_a_)
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
