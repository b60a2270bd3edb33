"""Tsallis-INF and Tsallis-INF-CB for SOR parameter selection (Learning to Relax).

Follows the authors' MATLAB learners ``learners/TsallisINF.m`` and
``learners/TsallisINFCB.m`` (``mkhodak/learning-to-relax``), not
:func:`banditlab.kernels.tsallis_inf_weights`, which differs on purpose: the
shared kernel warm-starts the normaliser, iterates to a tolerance and returns
renormalised weights, whereas the authors' learner runs exactly
``newton_steps`` Newton steps from ``newton_start`` each round and uses the
*unnormalised* Newton iterate ``p_I`` as the importance weight.

Per round t (from 1), with cumulative importance-weighted losses ``K`` and scale ``s``:

* ``eta = 2 / sqrt(t)``; Newton on ``x``: ``p_i = 4 (eta (K_i/s - x))^-2``,
  ``x <- x - (sum p - 1) / (eta sum p^{3/2})``; sample ``I`` from ``p / sum p``
  (uniformly, with ``p_I = 1/d``, if ``p`` is invalid).
* ``update(cost)``: ``s = mean(costs so far) - 1`` (1 if that is <= 0 [I]),
  ``K_I += (cost - 1) / p_I``.

Deviation [I]: a Newton step that lands at or right of the pole ``min K/s``
is replaced by the midpoint between the previous iterate and the pole (the
MATLAB code has no such guard; with ``K >= 0`` and the start ``-1`` it is
rarely, if ever, triggered). The MATLAB fallback overwrites ``p_I = 1/d`` by
the invalid ``probs(I)``; we keep ``1/d``, the value the fallback is meant to use [I].

References:
    Zimmert & Seldin, "Tsallis-INF: An optimal algorithm for stochastic and
    adversarial bandits", JMLR 2021; Khodak et al., "Learning to Relax", ICLR 2024.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from banditlab.agents.sor.common import (
    CHECK_ENV,
    CONTEXT_RANGE,
    OMEGA_GRID,
    check_context,
    context_bounds,
    resolve_grid,
)
from banditlab.core import Agent, BanditlabError
from banditlab.validation import Interval, require_discrete_actions

__all__ = ["relax_tsallis_select", "RelaxTsallisINF", "RelaxTsallisINFCB", "context_bin"]


@njit(cache=True)
def relax_tsallis_select(k_est, scale, t, newton_steps, newton_start, u):
    """One Tsallis-INF draw exactly as the authors' learner.

    Args:
        k_est: float64[d] cumulative importance-weighted losses (unscaled).
        scale: The running scale ``s`` (> 0).
        t: Round of this learner, from 1.
        newton_steps: Number of Newton steps.
        newton_start: Starting normaliser.
        u: One uniform draw in [0, 1).

    Returns:
        ``(index int64, p_I float64, p float64[d])``: the sampled arm, the
        importance weight (the Newton iterate, or ``1/d`` on the fallback) and the
        sampling distribution.
    """
    d = k_est.shape[0]
    eta = 2.0 / np.sqrt(t)
    kmin = np.inf
    for i in range(d):
        kmin = min(kmin, k_est[i] / scale)
    x = min(newton_start, kmin - 1e-12)
    p = np.empty(d)
    for _ in range(newton_steps):
        s = 0.0
        s32 = 0.0
        for i in range(d):
            v = eta * (k_est[i] / scale - x)
            p[i] = 4.0 / (v * v)
            s += p[i]
            s32 += p[i] ** 1.5
        x_new = x - (s - 1.0) / (eta * s32)
        if not x_new < kmin:
            x_new = 0.5 * (x + kmin)
        x = x_new
    # The MATLAB code samples from the probabilities of the last Newton step's evaluation
    # (computed before the final x update).
    total = 0.0
    valid = True
    for i in range(d):
        if not np.isfinite(p[i]) or p[i] < 0.0:
            valid = False
        total += p[i]
    if not valid or not total > 0.0 or not np.isfinite(total):
        idx = min(int(u * d), d - 1)
        q = np.full(d, 1.0 / d)
        return np.int64(idx), 1.0 / d, q
    q = p / total
    acc = 0.0
    idx = d - 1
    for i in range(d):
        acc += q[i]
        if u < acc:
            idx = i
            break
    return np.int64(idx), p[idx], q


def context_bin(context: float, low: float, high: float, n_bins: int) -> int:
    """Index of the bin whose centre ``low + (high-low)(j + 1/2)/n_bins`` is nearest ``context``."""
    j = int(np.floor((context - low) / (high - low) * n_bins))
    return min(max(j, 0), n_bins - 1)


class RelaxTsallisINFCB(Agent):
    """Tsallis-INF-CB: an independent Tsallis-INF per context bin (``learners/TsallisINFCB.m``).

    Args:
        n_bins: Number of equal-width bins of ``context_range`` (default 5).
        context_range: ``(a, b)``; contexts outside it raise (default ``(-0.15, 0.65)``).
        omega_grid: The env's grid (``"@known:omega_grid"``; only its size is used).
        newton_steps: Newton steps per round (default 20).
        newton_start: Starting normaliser (default -1).

    Learned state: ``k_`` float64[n_bins, d], ``t_`` int64[n_bins] (next round per
    bin, from 1), ``cost_sum_`` float64[n_bins], ``scale_`` float64[n_bins], and
    the pending ``(bin_, arm_, prob_)`` of the last ``act``.
    """

    _tags = {"learns": True, "families": ("sor",), "action_kind": "discrete",
             "check_env": CHECK_ENV}
    _parameter_constraints = {
        "n_bins": Interval("int", 1),
        "context_range": CONTEXT_RANGE,
        "omega_grid": OMEGA_GRID,
        "newton_steps": Interval("int", 1),
        "newton_start": Interval("real", None, 0.0, closed="neither"),
    }

    def __init__(self, n_bins: int = 5, context_range=(-0.15, 0.65), omega_grid=None,
                 newton_steps: int = 20, newton_start: float = -1.0):
        self.n_bins = n_bins
        self.context_range = context_range
        self.omega_grid = omega_grid
        self.newton_steps = newton_steps
        self.newton_start = newton_start

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)
        resolve_grid(self.omega_grid, action_space)
        context_bounds(self.context_range)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and create the per-bin learners."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        nb = int(self.n_bins)
        d = int(action_space.n)
        self.range_ = context_bounds(self.context_range)
        self.k_ = np.zeros((nb, d))
        self.t_ = np.ones(nb, np.int64)
        self.cost_sum_ = np.zeros(nb)
        self.scale_ = np.ones(nb)
        self.bin_ = 0
        self.arm_ = 0
        self.prob_ = 1.0 / d

    def _bin(self, observation) -> int:
        lo, hi = self.range_
        c = check_context(observation, lo, hi)
        return context_bin(c, lo, hi, self.k_.shape[0])

    def act(self, observation):
        """Sample an arm from the bin's Tsallis-INF distribution (one uniform draw)."""
        j = self._bin(observation)
        u = self.rng_.random()
        idx, p_i, _ = relax_tsallis_select(self.k_[j], float(self.scale_[j]), int(self.t_[j]),
                                           int(self.newton_steps), float(self.newton_start), u)
        self.bin_, self.arm_, self.prob_ = j, int(idx), float(p_i)
        return int(idx)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """``s = mean cost - 1``; ``K_I += (cost - 1)/p_I`` with cost = -reward."""
        j = self.bin_
        if int(action) != self.arm_:
            raise BanditlabError(f"action: update got {action!r} but act chose {self.arm_}")
        cost = -float(reward)
        self.cost_sum_[j] += cost
        s = self.cost_sum_[j] / self.t_[j] - 1.0
        self.scale_[j] = s if s > 0.0 else 1.0
        self.k_[j, self.arm_] += (cost - 1.0) / self.prob_
        self.t_[j] += 1

    def policy(self, observation) -> np.ndarray:
        """Current sampling distribution for ``observation`` (no randomness consumed)."""
        j = self._bin(observation)
        _, _, q = relax_tsallis_select(self.k_[j], float(self.scale_[j]), int(self.t_[j]),
                                       int(self.newton_steps), float(self.newton_start), 0.5)
        return q


class RelaxTsallisINF(RelaxTsallisINFCB):
    """½-Tsallis-INF over the omega grid, scale-free by the running mean cost (``TsallisINF.m``).

    Ignores the observation.

    Args:
        omega_grid: The env's grid (``"@known:omega_grid"``; only its size is used).
        newton_steps: Newton steps per round (default 20).
        newton_start: Starting normaliser (default -1).
    """

    def __init__(self, omega_grid=None, newton_steps: int = 20, newton_start: float = -1.0):
        self.omega_grid = omega_grid
        self.newton_steps = newton_steps
        self.newton_start = newton_start

    n_bins = 1
    context_range = (0.0, 1.0)

    def _bin(self, observation) -> int:
        return 0
