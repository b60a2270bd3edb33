"""Policy optimisation for adversarial linear-Q MDPs: dilated bonus, log-barrier FTRL, A2-candidate.

Kernels on top, classes below. All agents share one loop (the policy-optimisation
scheme of Luo et al. 2021 with the variations of Dai et al. 2023), run per episode ``k``:

1. policy ``pi_k`` from the cumulative adjusted loss table ``C[h, s, a] = sum_{tau<k}
   (Qhat_tau(s, a) - B_tau(s, a))`` (exponential weights, or log-barrier FTRL);
2. ``Sigma^dagger_{k, h}``, an estimate of ``(gamma I + Sigma_{k, h})^{-1}`` under ``pi_k``
   (:mod:`banditlab.agents.advmdp.covariance`);
3. bonus ``b_k(s, a) = beta (||phi(s, a)||^2_{Sigma^dagger} + E_{a'~pi_k(s)}
   ||phi(s, a')||^2_{Sigma^dagger})`` and the dilated bonus ``B_k(s, a) = b_k(s, a) +
   (1 + 1/H) E_{s', a'} B_k(s', a')`` by backward dynamic programming (exact
   transitions in exact simulator mode; otherwise one Monte-Carlo backward pass
   with ``n_bonus_samples`` start-pair simulator draws per pair, a banditlab
   simplification [I] of Luo et al.'s memoised recursive sampling, which costs
   poly(K) per call);
4. play the episode, observe the losses ``l_h`` along the trajectory (bandit
   feedback), form ``L_h = sum_{h' >= h} l_{h'}``, ``thetahat_h = Sigma^dagger_h
   phi_h(s_h, a_h) L_h`` and ``Qhat_h(s, a) = <phi_h(s, a), thetahat_h>``, and update ``C``.

``C`` is kept as a table over the enumerated (h, s, a) (not as summed ``thetahat``),
because the A2-candidate truncation acts per pair. Much of the detail is recalled
from the papers rather than checked line by line, or designed here [I]; the defaults
below are the theory's rate scalings in ``K`` with multiplicative constants ``c_eta``,
``c_beta`` to tune (with the theory's constants the learners behave like uniform play
at small K).

References:
    Luo, Wei, Lee, "Policy Optimization in Adversarial MDPs: Improved Exploration
    via Dilated Bonuses", NeurIPS 2021 (A0, Õ(K^{2/3}) with linear-Q and a simulator).
    Dai, Luo, Wei, Zimmert, "Refined Regret for Adversarial MDPs with Linear
    Function Approximation", ICML 2023 (A1: log-barrier FTRL, Õ(√K); A2:
    magnitude-reduced estimator, whose exact form we have NOT checked, hence the
    "A2-candidate" label).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from banditlab.agents.advmdp.covariance import COV_ESTIMATORS, make_cov_estimator
from banditlab.core import Agent, BanditlabError
from banditlab.envs.advmdp.model import validate_features
from banditlab.validation import (
    Array,
    Boolean,
    Interval,
    Options,
    require_discrete_actions,
)

__all__ = [
    "logbarrier_weights",
    "expweights_policy",
    "logbarrier_policy",
    "immediate_bonus",
    "dilate_bonus_exact",
    "estimate_and_accumulate",
    "DilatedBonusPO",
    "LogBarrierPO",
    "MagnitudeReducedPO",
    "TabularExp3PO",
]


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def logbarrier_policy(C, eta, newton):
    """float64[H, N, A]: per row, the minimiser of ``<p, c> + (1/eta) sum_a ln(1/p_a)``.

    Closed form ``p_a = 1 / (eta (c_a - min c + lam))`` with the scalar ``lam`` in
    ``[1/eta, A/eta]`` solving ``sum_a p_a = 1`` (``sum p`` decreases in ``lam``).
    Safeguarded Newton (``newton=True``; started at the left end of the bracket,
    where the convex decreasing ``f(lam) = sum p - 1`` makes Newton monotone, and
    falling back to bisection whenever a step leaves the bracket) or 60 bisection
    steps. Each row is renormalised. Never NaN for finite ``C``.

    Args:
        C: float64[H, N, A], cumulative losses (finite, any magnitude).
        eta: Learning rate (> 0).
        newton: Use safeguarded Newton instead of plain bisection.
    """
    H, N, A = C.shape
    pi = np.empty((H, N, A))
    x = np.empty(A)
    for h in range(H):
        for s in range(N):
            cmin = np.inf
            for a in range(A):
                if C[h, s, a] < cmin:
                    cmin = C[h, s, a]
            for a in range(A):
                x[a] = eta * (C[h, s, a] - cmin)  # >= 0; p_a = 1 / (x_a + mu), mu = eta lam
            lo = 1.0  # f(lo) >= 0
            hi = float(A)  # f(hi) <= 0
            mu = lo
            if newton:
                for _ in range(100):
                    f = -1.0
                    df = 0.0
                    for a in range(A):
                        inv = 1.0 / (x[a] + mu)
                        f += inv
                        df -= inv * inv
                    if f > 0:
                        lo = mu
                    else:
                        hi = mu
                    if f == 0.0 or hi - lo <= 1e-15 * hi:
                        break
                    step = mu - f / df
                    if not (lo < step < hi):
                        step = 0.5 * (lo + hi)
                    if step == mu:
                        break
                    mu = step
            else:
                for _ in range(60):
                    mu = 0.5 * (lo + hi)
                    f = -1.0
                    for a in range(A):
                        f += 1.0 / (x[a] + mu)
                    if f > 0:
                        lo = mu
                    else:
                        hi = mu
                mu = 0.5 * (lo + hi)
            tot = 0.0
            for a in range(A):
                pi[h, s, a] = 1.0 / (x[a] + mu)
                tot += pi[h, s, a]
            for a in range(A):
                pi[h, s, a] /= tot
    return pi


def logbarrier_weights(c, eta, newton=True):
    """float64[A], the log-barrier FTRL distribution of one state's cumulative losses ``c``.

    Thin wrapper of :func:`logbarrier_policy` on a single row.
    """
    c = np.ascontiguousarray(c, dtype=np.float64)
    return logbarrier_policy(c.reshape(1, 1, -1), float(eta), bool(newton))[0, 0]


@njit(cache=True)
def expweights_policy(C, eta):
    """float64[H, N, A], ``pi(a|s) ∝ exp(-eta (C[h, s, a] - min_a C[h, s, a]))``."""
    H, N, A = C.shape
    pi = np.empty((H, N, A))
    for h in range(H):
        for s in range(N):
            cmin = np.inf
            for a in range(A):
                if C[h, s, a] < cmin:
                    cmin = C[h, s, a]
            tot = 0.0
            for a in range(A):
                w = math.exp(-eta * (C[h, s, a] - cmin))
                pi[h, s, a] = w
                tot += w
            for a in range(A):
                pi[h, s, a] /= tot
    return pi


@njit(cache=True)
def immediate_bonus(phi, sig_inv, pi, beta):
    """float64[H, N, A], ``b(s, a) = beta (||phi(s,a)||^2 + E_{a'~pi(s)} ||phi(s,a')||^2)``.

    Norms are in ``sig_inv[h]`` (float64[H, d, d]).
    """
    H, N, A, d = phi.shape
    nrm = np.zeros((H, N, A))
    for h in range(H):
        for s in range(N):
            for a in range(A):
                acc = 0.0
                for i in range(d):
                    fi = phi[h, s, a, i]
                    if fi == 0.0:
                        continue
                    for j in range(d):
                        acc += fi * sig_inv[h, i, j] * phi[h, s, a, j]
                nrm[h, s, a] = acc if acc > 0.0 else 0.0
    b = np.zeros((H, N, A))
    for h in range(H):
        for s in range(N):
            mean = 0.0
            for a in range(A):
                mean += pi[h, s, a] * nrm[h, s, a]
            for a in range(A):
                b[h, s, a] = beta * (nrm[h, s, a] + mean)
    return b


@njit(cache=True)
def dilate_bonus_exact(P, pi, b):
    """float64[H, N, A], ``B_h = b_h + (1 + 1/H) E_{s'~P_h, a'~pi} B_{h+1}`` (``B_H = 0``)."""
    H, N, A = b.shape
    B = np.zeros((H, N, A))
    dil = 1.0 + 1.0 / H
    vnext = np.zeros(N)
    for h in range(H - 1, -1, -1):
        for s in range(N):
            for a in range(A):
                cont = 0.0
                if h + 1 < H:
                    for s2 in range(N):
                        cont += P[h, s, a, s2] * vnext[s2]
                B[h, s, a] = b[h, s, a] + dil * cont
        for s in range(N):
            v = 0.0
            for a in range(A):
                v += pi[h, s, a] * B[h, s, a]
            vnext[s] = v
    return B


@njit(cache=True)
def estimate_and_accumulate(C, phi, sig_inv, states, actions, losses, B, lower):
    """Add ``Qhat_k - B_k`` to ``C`` in place; return ``thetahat`` float64[H, d].

    ``thetahat_h = sig_inv[h] phi_h(s_h, a_h) L_h`` with ``L_h = sum_{h' >= h} losses[h']``
    and ``Qhat_h(s, a) = max(<phi_h(s, a), thetahat_h>, lower)`` (``lower = -inf``: no
    truncation; the A2-candidate uses ``lower = -trunc_c / eta``).

    Args:
        C: float64[H, N, A] cumulative adjusted losses (updated).
        phi: float64[H, N, A, d] features.
        sig_inv: float64[H, d, d].
        states: int64[H]; actions: int64[H]; losses: float64[H] along the trajectory.
        B: float64[H, N, A] dilated bonus of this episode.
        lower: Truncation level of ``Qhat``.
    """
    H, N, A, d = phi.shape
    theta = np.zeros((H, d))
    L = 0.0
    for h in range(H - 1, -1, -1):
        L += losses[h]
        s = states[h]
        a = actions[h]
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += sig_inv[h, i, j] * phi[h, s, a, j]
            theta[h, i] = acc * L
        for s2 in range(N):
            for a2 in range(A):
                qv = 0.0
                for i in range(d):
                    qv += phi[h, s2, a2, i] * theta[h, i]
                if qv < lower:
                    qv = lower
                C[h, s2, a2] += qv - B[h, s2, a2]
    return theta


# --------------------------------------------------------------------------- constraints
_POSITIVE = Interval("real", 0.0, None, closed="neither")
_NONNEGATIVE = Interval("real", 0.0, None)
_COUNT = [None, Interval("int", 1)]


# --------------------------------------------------------------------------- agents
class _LinearQPolicyOptimisation(Agent):
    """Shared machinery of the policy-optimisation agents (see the module docstring).

    Subclasses define ``_default_rates(K, H, A, d) -> (eta, gamma, beta)`` and
    ``_policy(C, eta) -> pi``, and may set ``_tabular`` (one-hot features) or a
    truncation level.

    Learned state after :meth:`reset`: ``C_`` float64[H, N, A], ``pi_`` float64[H, N, A],
    ``sig_inv_`` float64[H, d, d], ``bonus_`` float64[H, N, A] (dilated),
    ``traj_s_``/``traj_a_`` int64[H], ``traj_l_`` float64[H], ``phi_`` float64[H, N, A, d],
    ``eta_``, ``gamma_``, ``beta_``, ``episodes_``, ``rng_``.
    """

    _tags = {
        "families": ("advmdp",),
        "needs_simulator": True,
        "exposes_policy": True,
        "check_env": ("banditlab/AdvLinearQMDP-v0", {"n_episodes": 32}),
    }
    _parameter_constraints = {
        "c_eta": _POSITIVE,
        "c_beta": _NONNEGATIVE,
        "eta": [None, _POSITIVE],
        "gamma": [None, _POSITIVE],
        "beta": [None, _NONNEGATIVE],
        "mgr_c": Interval("real", 0.0, 0.5, closed="right"),
        "cov_estimator": Options("auto", *COV_ESTIMATORS),
        "bonus": Options("auto", "exact_dp", "sampled_dp"),
        "n_cov_samples": _COUNT,
        "n_bonus_samples": _COUNT,
        "n_episodes": _COUNT,
        "features": [None, Array("float", ndim=4)],
    }
    _tabular = False

    def _default_rates(self, K: int, H: int, A: int, d: int) -> tuple[float, float, float]:
        raise NotImplementedError

    def _policy(self, C: np.ndarray, eta: float) -> np.ndarray:
        raise NotImplementedError

    def _lower(self) -> float:
        return -np.inf

    # ----------------------------------------------------------------- validation
    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)

    # ----------------------------------------------------------------- run
    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate, read the setting's constants from ``simulator``, zero the learned state.

        Raises:
            BanditlabError: On a bad hyperparameter or when ``simulator`` is missing.
        """
        self._validate_params(action_space, observation_space)
        if simulator is None:
            raise BanditlabError(
                f"simulator: {type(self).__name__} needs the env's simulator (tag needs_simulator)"
            )
        self.rng_ = np.random.default_rng(seed)
        self.simulator_ = simulator
        self.exact_sim_ = getattr(simulator, "mode", "sample") == "exact"
        kc = simulator.known_constants
        H, N, A = int(kc["H"]), int(kc["N"]), int(kc["A"])
        if A != action_space.n:
            raise BanditlabError(f"action_space: has {action_space.n} actions, simulator says {A}")
        feats = simulator.features() if self.features is None else self.features
        phi = validate_features(feats, H, N, A, simplex=False)
        if self._tabular:
            phi = np.zeros((H, N, A, N * A))
            for s in range(N):
                for a in range(A):
                    phi[:, s, a, s * A + a] = 1.0
            phi[0, 1:] = 0.0
        self.phi_ = np.ascontiguousarray(phi)
        d = self.phi_.shape[3]
        K = int(self.n_episodes if self.n_episodes is not None else kc["n_episodes"])
        eta, gamma, beta = self._default_rates(K, H, A, d)
        self.eta_ = float(self.eta if self.eta is not None else eta)
        self.gamma_ = float(self.gamma if self.gamma is not None else gamma)
        self.beta_ = float(self.beta if self.beta is not None else beta)
        cov = self.cov_estimator
        if cov == "auto":
            cov = "exact" if self.exact_sim_ else "direct"
        if self.n_cov_samples is not None:
            m = int(self.n_cov_samples)
        else:
            # ceil(4 ln(dHK) / gamma^2) draws, capped (here at 4096 for speed) [I]
            m = int(min(4096, math.ceil(4 * math.log(max(d * H * K, 2)) / self.gamma_**2)))
        self.cov_ = make_cov_estimator(cov, self.gamma_, m, float(self.mgr_c))
        bonus = self.bonus
        if bonus == "auto":
            bonus = "exact_dp" if self.exact_sim_ else "sampled_dp"
        if bonus == "exact_dp" and not self.exact_sim_:
            raise BanditlabError("bonus: 'exact_dp' needs an env with simulator_mode='exact'")
        if cov == "exact" and not self.exact_sim_:
            raise BanditlabError("cov_estimator: 'exact' needs an env with simulator_mode='exact'")
        self.bonus_kind_ = bonus
        self.P_ = simulator.transitions() if bonus == "exact_dp" else None
        self.H_, self.N_, self.A_ = H, N, A
        self.C_ = np.zeros((H, N, A))
        self.traj_s_ = np.zeros(H, np.int64)
        self.traj_a_ = np.zeros(H, np.int64)
        self.traj_l_ = np.zeros(H)
        self.need_policy_ = True
        self.episodes_ = 0
        self.pi_ = None
        self.sig_inv_ = None
        self.bonus_ = None

    def _begin_episode(self) -> None:
        pi = self._policy(self.C_, self.eta_)
        pi[0, 1:] = 1.0 / self.A_  # padded rows of layer 0
        self.pi_ = pi
        self.sig_inv_ = self.cov_.inv_cov(self.phi_, pi, self.simulator_)
        if self.beta_ > 0:
            b = immediate_bonus(self.phi_, self.sig_inv_, pi, self.beta_)
            if self.bonus_kind_ == "exact_dp":
                self.bonus_ = dilate_bonus_exact(self.P_, pi, b)
            else:
                self.bonus_ = self._dilate_sampled(pi, b)
        else:
            self.bonus_ = np.zeros_like(pi)
        self.need_policy_ = False

    def _dilate_sampled(self, pi: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Monte-Carlo backward pass: ``E_{s'}`` from ``n_bonus_samples`` start-pair draws [I]."""
        H, N, A = b.shape
        B = b.copy()
        dil = 1.0 + 1.0 / H
        m = int(self.n_bonus_samples)
        for h in range(H - 2, -1, -1):
            vnext = np.einsum("sa,sa->s", pi[h + 1], B[h + 1])
            n_h = 1 if h == 0 else N
            starts = np.array(
                [(h, s, a) for s in range(n_h) for a in range(A)], dtype=np.int64
            )
            traj = self.simulator_.sample(pi, m, start=starts)  # (n_h * A, m, H, 2)
            est = vnext[traj[:, :, h + 1, 0]].mean(axis=1)
            B[h, :n_h, :] += dil * est.reshape(n_h, A)
        return B

    def policy_table(self) -> np.ndarray:
        """float64[H, N, A], the policy ``pi_k`` of the current episode (copy)."""
        if not hasattr(self, "C_"):
            raise BanditlabError("policy_table: call reset() first")
        if self.need_policy_:
            self._begin_episode()
        return self.pi_.copy()

    def act(self, observation):
        """Draw ``a ~ pi_k(.|s)`` for the observed layer and state."""
        if self.need_policy_:
            self._begin_episode()
        h, s = int(observation["h"]), int(observation["s"])
        p = self.pi_[h, s]
        u = self.rng_.random()
        a = int(np.searchsorted(np.cumsum(p), u, side="right"))
        return min(a, self.A_ - 1)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Record the step; at the end of the episode estimate ``Qhat`` and update ``C``."""
        h = int(observation["h"])
        self.traj_s_[h] = int(observation["s"])
        self.traj_a_[h] = int(action)
        self.traj_l_[h] = -float(reward)
        if terminated:
            if self.need_policy_:  # an episode played without act(): nothing to learn from
                return
            estimate_and_accumulate(
                self.C_, self.phi_, self.sig_inv_, self.traj_s_, self.traj_a_, self.traj_l_,
                self.bonus_, self._lower(),
            )
            self.episodes_ += 1
            self.need_policy_ = True

    def diagnostics(self) -> dict[str, float]:
        """``{"episodes": ...}`` (cumulative)."""
        return {"episodes": float(getattr(self, "episodes_", 0))}


_COMMON_DOC = """
    Args:
        c_eta: Multiplier of the learning-rate scaling (tune it; the scaling itself
            is given per agent below).
        c_beta: Multiplier of the bonus scale ``beta = c_beta * sqrt(gamma)``.
        eta, gamma, beta: Explicit values overriding the scalings (None: use them).
        n_episodes: K used by the scalings (None: the simulator's ``n_episodes``;
            experiment files bind ``"@run_length"``).
        cov_estimator: ``"auto"`` (``"exact"`` with an exact simulator, else
            ``"direct"``), ``"exact"``, ``"direct"`` or ``"mgr"``.
        n_cov_samples: Simulator trajectories per episode for ``direct``/``mgr``
            (None: ``ceil(4 ln(dHK)/gamma^2)`` capped at 4096 [I]).
        mgr_c: MGR step (``0 < c <= 1/2``).
        bonus: ``"auto"``, ``"exact_dp"`` (exact simulator) or ``"sampled_dp"`` (Luo et
            al.'s recursive sampled bonus is not implemented).
        n_bonus_samples: Start-pair draws per (h, s, a) for ``"sampled_dp"``.
        features: Optional float64[H, N, A, d] (``"@known:features"``); None reads
            ``simulator.features()``. Norms must be <= 1.
"""


class DilatedBonusPO(_LinearQPolicyOptimisation):
    """A0: Luo, Wei & Lee (2021) policy optimisation with dilated bonus (exp weights).

    ``pi_k(.|s) ∝ exp(-eta C_k(s, .))``; scalings ``eta = c_eta K^{-2/3}``, ``gamma = H eta``
    (keeps ``eta Qhat >= -1``), ``beta = c_beta sqrt(gamma)`` [I]. The paper uses MGR;
    pass ``cov_estimator="mgr"`` for that (default ``"auto"``).
    """

    __doc__ += _COMMON_DOC

    def __init__(
        self,
        c_eta: float = 3.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "auto",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        bonus: str = "auto",
        n_bonus_samples: int = 8,
        features=None,
    ):
        self.c_eta = c_eta
        self.c_beta = c_beta
        self.eta = eta
        self.gamma = gamma
        self.beta = beta
        self.n_episodes = n_episodes
        self.cov_estimator = cov_estimator
        self.n_cov_samples = n_cov_samples
        self.mgr_c = mgr_c
        self.bonus = bonus
        self.n_bonus_samples = n_bonus_samples
        self.features = features

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * K ** (-2.0 / 3.0)
        gamma = min(1.0, H * eta)
        return eta, gamma, self.c_beta * math.sqrt(gamma)

    def _policy(self, C, eta):
        return expweights_policy(C, eta)


class LogBarrierPO(_LinearQPolicyOptimisation):
    """A1: Dai, Luo, Wei & Zimmert (2023) Algorithm 1, log-barrier FTRL.

    ``pi_k(.|s) = argmin_p <p, C_k(s, .)> + (1/eta) sum_a ln(1/p_a)``, solved in closed
    form up to one scalar (:func:`logbarrier_weights`). Scalings [I]:
    ``eta = c_eta sqrt(A ln K / (d H^3 K))``, ``gamma = 1/K``, ``beta = c_beta sqrt(gamma)``.

    Extra Args:
        log_barrier_solver: ``"newton"`` (safeguarded) or ``"bisection"`` (60 steps).
    """

    __doc__ += _COMMON_DOC
    _parameter_constraints = {
        **_LinearQPolicyOptimisation._parameter_constraints,
        "log_barrier_solver": Options("newton", "bisection"),
    }

    def __init__(
        self,
        c_eta: float = 30.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "auto",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        bonus: str = "auto",
        n_bonus_samples: int = 8,
        features=None,
        log_barrier_solver: str = "newton",
    ):
        self.c_eta = c_eta
        self.c_beta = c_beta
        self.eta = eta
        self.gamma = gamma
        self.beta = beta
        self.n_episodes = n_episodes
        self.cov_estimator = cov_estimator
        self.n_cov_samples = n_cov_samples
        self.mgr_c = mgr_c
        self.bonus = bonus
        self.n_bonus_samples = n_bonus_samples
        self.features = features
        self.log_barrier_solver = log_barrier_solver

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * math.sqrt(A * math.log(max(K, 2)) / (d * H**3 * K))
        gamma = 1.0 / K
        return eta, gamma, self.c_beta * math.sqrt(gamma)

    def _policy(self, C, eta):
        return logbarrier_policy(C, eta, self.log_barrier_solver == "newton")


class MagnitudeReducedPO(DilatedBonusPO):
    """"A2-candidate": exp weights with the estimate truncated from below [I].

    NOT Dai et al.'s Algorithm 2 (whose magnitude-reduced estimator we have not
    checked): a placeholder of our own, ``Qtilde = max(Qhat, -trunc_c/eta)``, which
    restores ``eta Qtilde >= -1`` without a large ``gamma``. Scalings [I]:
    ``eta = c_eta sqrt(ln A / (d H^3 K))``, ``gamma = 1/K``, ``beta = c_beta sqrt(gamma)``.
    A bonus floor ``beta = max(c_beta sqrt(gamma), eta H^2)`` [I] (meant to absorb the
    truncation bias) is available with ``beta_floor=True``; it is off by default
    because on ``AdvLinearQMDP-v0`` (iid_mix, p_mix=0.8, K=2048, exact simulator,
    2 seeds) the floor made the agent no better than uniform (pseudo-regret 337-434
    vs uniform 433 for c_eta in {3, 10, 30}) while without it c_eta=30 reached 127
    [M] (a one-off tuning run, not kept in the repository). Label it "A2-candidate" in
    plots.

    Extra Args:
        trunc_c: Truncation constant ``c`` (> 0).
        beta_floor: Use the bonus floor ``beta >= eta H^2``.
    """

    __doc__ += _COMMON_DOC
    _parameter_constraints = {
        **_LinearQPolicyOptimisation._parameter_constraints,
        "trunc_c": _POSITIVE,
        "beta_floor": Boolean(),
    }

    def __init__(
        self,
        c_eta: float = 30.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "auto",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        bonus: str = "auto",
        n_bonus_samples: int = 8,
        features=None,
        trunc_c: float = 0.5,
        beta_floor: bool = False,
    ):
        super().__init__(
            c_eta, c_beta, eta, gamma, beta, n_episodes, cov_estimator, n_cov_samples, mgr_c,
            bonus, n_bonus_samples, features,
        )
        self.trunc_c = trunc_c
        self.beta_floor = beta_floor

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * math.sqrt(max(math.log(A), math.log(2)) / (d * H**3 * K))
        gamma = 1.0 / K
        beta = self.c_beta * math.sqrt(gamma)
        return eta, gamma, max(beta, eta * H**2) if self.beta_floor else beta

    def _lower(self) -> float:
        return -float(self.trunc_c) / self.eta_


class TabularExp3PO(DilatedBonusPO):
    """Tabular per-state Exp3 policy optimisation (baseline) on one-hot (s, a) features.

    Ignores the env's features and uses one-hot features of dimension ``N * A``,
    so ``Sigma_h = diag(q_h)`` and the estimator is the implicit-exploration
    importance-weighted ``L_h 1[(s_h, a_h) = (s, a)] / (gamma + q_h(s, a))`` with the
    exact (or estimated) occupancy. Scalings [I]: ``eta = c_eta sqrt(ln A / (d H^3 K))``
    with ``d = N A``, ``gamma = eta`` (implicit exploration), ``beta = c_beta sqrt(gamma)``.
    """

    __doc__ += _COMMON_DOC
    _tabular = True

    def __init__(
        self,
        c_eta: float = 10.0,
        c_beta: float = 0.1,
        eta: float | None = None,
        gamma: float | None = None,
        beta: float | None = None,
        n_episodes: int | None = None,
        cov_estimator: str = "auto",
        n_cov_samples: int | None = None,
        mgr_c: float = 0.5,
        bonus: str = "auto",
        n_bonus_samples: int = 8,
        features=None,
    ):
        super().__init__(
            c_eta, c_beta, eta, gamma, beta, n_episodes, cov_estimator, n_cov_samples, mgr_c,
            bonus, n_bonus_samples, features,
        )

    def _default_rates(self, K, H, A, d):
        eta = self.c_eta * math.sqrt(max(math.log(A), math.log(2)) / (d * H**3 * K))
        gamma = min(1.0, eta)
        return eta, gamma, self.c_beta * math.sqrt(gamma)
