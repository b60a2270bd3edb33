"""ChebCB: SquareCB-style inverse-gap weighting over per-arm Chebyshev regressions.

Follows the authors' MATLAB learner ``learners/ChebCB.m``
(``mkhodak/learning-to-relax``). Each arm ``i`` of the omega grid keeps a
regression ``theta_i . phi(z)`` of the normalised cost ``(cost - 1)/scale`` on
the Chebyshev features ``phi(z) = (T_0(z), ..., T_{m-1}(z))`` of the context
``z = 2 (c - a)/(b - a) - 1``.

act(c): ``yhat_i = theta_i . phi``; ``i* = argmin yhat`` (first on ties);
``p_i = 1/(d + eta (yhat_i - yhat_{i*}))`` for ``i != i*``, ``p_{i*} = 1 - sum``;
sample ``I``; store ``phi`` and ``theta_I . phi``.

update(cost) at round t: ``K = max cost``, ``Lip = (K - c_min)/(b - a)``,
``N = 2 + 4 (b - a) Lip / K (1 + ln m)``, ``scale = K N``; box
``|theta_0| <= 1/N``, ``|theta_j| <= 2 (b - a) Lip/(scale j)``; refit every arm if
the scale changed, else the played arm: min-norm least squares, redone with
:func:`scipy.optimize.lsq_linear` under the box if it leaves the box (its
``resnorm = ||residual||^2`` is recorded; the last box fit of the round wins,
0 when none); ``alpha = (pi + (2/pi) ln(2m + 1)) / (2 scale (m + 1)) (b - a) Lip``;
``R = sum_s (pred_s - cost_s/(K N))^2``; ``eta = 2 t sqrt(d t/(R - resnorm + 2 alpha^2 t))``.

The ``1`` of ``cost - 1`` is ``cost_offset`` (default 1, the smallest iteration count; 0 for
costs in seconds, see :func:`banditlab.agents.sor.common.check_mean_cost`).

Notes:
    * ``lip_min_zero=True`` (default) mirrors the MATLAB code, where ``min``
      runs over a zero-preallocated length-T loss vector, so ``c_min = 0`` in
      every round but possibly the last; ``False`` uses the observed minimum, the
      plain reading of the Lipschitz estimate [I]. The related asymmetry
      ``(cost - 1)/scale`` in the fit vs ``cost/(K N)`` in ``R`` is kept as in the
      code (whether it is intended is unresolved).
    * Guards [I]: ``K <= 0`` is treated as 1; box half-widths are at least 1e-12
      (``lsq_linear`` needs ``lb < ub``); a non-positive or non-finite ``eta``
      denominator keeps the previous ``eta``.

References:
    Foster & Rakhlin, "Beyond UCB: Optimal and efficient contextual bandits with
    regression oracles", ICML 2020; Khodak et al., "Learning to Relax", ICLR 2024.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from banditlab.agents.sor.common import (
    CHECK_ENV,
    CONTEXT_RANGE,
    COST_OFFSET,
    OMEGA_GRID,
    check_context,
    check_mean_cost,
    context_bounds,
    resolve_grid,
)
from banditlab.core import Agent, BanditlabError
from banditlab.validation import Boolean, Interval, require_discrete_actions

__all__ = ["chebyshev_features", "inverse_gap_probs", "ChebCB"]


@njit(cache=True)
def chebyshev_features(z, m):
    """``(T_0(z), ..., T_{m-1}(z))`` by the three-term recurrence; ``z`` clipped to [-1, 1]."""
    z = min(max(z, -1.0), 1.0)
    out = np.empty(m)
    out[0] = 1.0
    if m > 1:
        out[1] = z
    for j in range(2, m):
        out[j] = 2.0 * z * out[j - 1] - out[j - 2]
    return out


@njit(cache=True)
def inverse_gap_probs(yhat, eta):
    """Inverse-gap weights: ``1/(d + eta (yhat_i - min))`` off the argmin, the rest on it."""
    d = yhat.shape[0]
    istar = 0
    for i in range(1, d):
        if yhat[i] < yhat[istar]:
            istar = i
    p = np.empty(d)
    rest = 0.0
    for i in range(d):
        if i != istar:
            p[i] = 1.0 / (d + eta * (yhat[i] - yhat[istar]))
            rest += p[i]
    p[istar] = 1.0 - rest
    return p


class ChebCB(Agent):
    """ChebCB contextual bandit over the omega grid (``learners/ChebCB.m``).

    Args:
        n_features: m, the number of Chebyshev features T_0..T_{m-1} (default 6).
        context_range: ``(a, b)`` containing every context (default ``(-0.15, 0.65)``);
            contexts outside raise.
        omega_grid: The env's grid (``"@known:omega_grid"``; only its size is used).
        lip_min_zero: Use 0 as the minimum cost in the Lipschitz estimate, as the
            MATLAB code effectively does (default True); False uses the observed minimum.
        cost_offset: The ``1`` of the fit target ``(cost - 1)/scale`` (default 1, the
            smallest iteration count); 0 for costs in seconds (``"@known:cost_offset"``).
            A mean cost below it raises.

    Learned state: ``theta_`` float64[d, m]; per-round histories ``features_``,
    ``actions_``, ``costs_``, ``predicted_`` (lists); ``eta_``, ``scale_``,
    ``resnorm_``, ``n_box_fits_``.

    Deviations:
        Opt-in only; the defaults follow ``learners/ChebCB.m``. ``lip_min_zero=False``
        (tag "observed-min Lipschitz") estimates the Lipschitz constant from the observed
        minimum cost; ``cost_offset != 1`` (tag "cost offset <value>") changes the fit
        target for costs that are not iteration counts (0 for seconds). With
        ``cost_offset=0`` the learner is scale-free: multiplying every cost by a constant
        leaves its actions unchanged (tested).
    """

    display_name: ClassVar[str] = "ChebCB"

    _tags = {"learns": True, "families": ("sor",), "action_kind": "discrete",
             "check_env": CHECK_ENV}
    _parameter_constraints = {
        "n_features": Interval("int", 1),
        "context_range": CONTEXT_RANGE,
        "omega_grid": OMEGA_GRID,
        "lip_min_zero": Boolean(),
        "cost_offset": COST_OFFSET,
    }

    def __init__(self, n_features: int = 6, context_range=(-0.15, 0.65), omega_grid=None,
                 lip_min_zero: bool = True, cost_offset: float = 1.0):
        self.n_features = n_features
        self.context_range = context_range
        self.omega_grid = omega_grid
        self.lip_min_zero = lip_min_zero
        self.cost_offset = cost_offset

    def variant_tags(self) -> tuple[str, ...]:
        """``"observed-min Lipschitz"`` and ``"cost offset <value>"`` when those options are on."""
        tags = []
        if self.lip_min_zero is False:
            tags.append("observed-min Lipschitz")
        if isinstance(self.cost_offset, (int, float)) and self.cost_offset != 1.0:
            tags.append(f"cost offset {self.cost_offset:g}")
        return tuple(tags)

    def _validate_params(self, action_space, observation_space) -> None:
        super()._validate_params(action_space, observation_space)
        require_discrete_actions(action_space)
        resolve_grid(self.omega_grid, action_space)
        context_bounds(self.context_range)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate and clear the regressions and histories."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.range_ = context_bounds(self.context_range)
        d = int(action_space.n)
        self.theta_ = np.zeros((d, int(self.n_features)))
        self.features_: list[np.ndarray] = []
        self.actions_: list[int] = []
        self.costs_: list[float] = []
        self.predicted_: list[float] = []
        self.rows_: list[list[int]] = [[] for _ in range(d)]
        self.eta_ = 0.0
        self.scale_ = 0.0
        self.resnorm_ = 0.0
        self.n_box_fits_ = 0
        self.pending_ = None

    def _phi(self, observation) -> np.ndarray:
        lo, hi = self.range_
        c = check_context(observation, lo, hi)
        z = 2.0 * (c - lo) / (hi - lo) - 1.0
        return chebyshev_features(z, int(self.n_features))

    def predict(self, observation) -> np.ndarray:
        """Predicted normalised costs ``theta_i . phi`` of every arm (float64[d])."""
        return self.theta_ @ self._phi(observation)

    def act(self, observation):
        """Inverse-gap sampling (one uniform draw)."""
        phi = self._phi(observation)
        yhat = self.theta_ @ phi
        p = inverse_gap_probs(yhat, self.eta_)
        p = np.clip(p, 0.0, None)
        u = self.rng_.random()
        cdf = np.cumsum(p / p.sum())
        i = int(min(np.searchsorted(cdf, u, side="right"), p.shape[0] - 1))
        self.pending_ = (phi, i, float(yhat[i]))
        return i

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Refit and update the learning rate; see the module docstring."""
        phi, i, pred = self.pending_
        if int(action) != i:
            raise BanditlabError(f"action: update got {action!r} but act chose {i}")
        cost = -float(reward)
        self.features_.append(phi)
        self.actions_.append(i)
        self.costs_.append(cost)
        self.predicted_.append(pred)
        self.rows_[i].append(len(self.costs_) - 1)
        t = len(self.costs_)
        m = int(self.n_features)
        d = self.theta_.shape[0]
        lo, hi = self.range_
        bma = hi - lo
        costs = np.asarray(self.costs_)
        off = float(self.cost_offset)
        check_mean_cost(float(costs.mean()), off)
        k_max = float(costs.max())
        if k_max <= 0.0:
            k_max = 1.0
        c_min = 0.0 if self.lip_min_zero else float(costs.min())
        lip = (k_max - c_min) / bma
        n_ = 2.0 + 4.0 * bma * lip / k_max * (1.0 + np.log(m))
        new_scale = k_max * n_
        refit_all = new_scale != self.scale_
        self.scale_ = new_scale
        ub = np.empty(m)
        ub[0] = 1.0 / n_
        for j in range(1, m):
            ub[j] = 2.0 * bma * lip / new_scale / j
        ub = np.maximum(ub, 1e-12)
        feats = np.asarray(self.features_)
        resnorm = 0.0
        for arm in range(d) if refit_all else (i,):
            rows = self.rows_[arm]
            if not rows:
                continue
            f = feats[rows]
            y = (costs[rows] - off) / new_scale
            theta = np.linalg.lstsq(f, y, rcond=None)[0]
            if np.any(np.abs(theta) > ub):
                from scipy.optimize import lsq_linear  # ~0.15 s to import: only when needed
                res = lsq_linear(f, y, bounds=(-ub, ub), method="bvls")
                theta = res.x
                resnorm = float(np.sum((f @ theta - y) ** 2))
                self.n_box_fits_ += 1
            self.theta_[arm] = theta
        self.resnorm_ = resnorm
        alpha = (np.pi + 2.0 / np.pi * np.log(2.0 * m + 1.0)) / (2.0 * new_scale * (m + 1)) * (
            bma * lip
        )
        r_sum = float(np.sum((np.asarray(self.predicted_) - costs / (k_max * n_)) ** 2))
        den = r_sum - resnorm + 2.0 * alpha * alpha * t
        if den > 0.0 and np.isfinite(den):
            self.eta_ = 2.0 * t * np.sqrt(d * t / den)

    def diagnostics(self) -> dict[str, float]:
        """``eta`` and the number of box-constrained refits so far."""
        return {"eta": float(self.eta_), "box_fits": float(self.n_box_fits_)}
