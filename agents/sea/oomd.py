"""Optimistic online mirror descent (Euclidean) with the last gradient as hint, and oracle agents.

Kernels on top, classes below. :class:`OOMD` is the main algorithm of the SEA family
(Chen, Zhang, Tu, Zhao, Zhang, ICML 2023 / JMLR 2024); :class:`OracleHintOOMD` and
:class:`DynamicComparator` are oracle agents, registered as ``oracle/SEAOracleHintOOMD-v0``
and ``oracle/SEADynamicComparator-v0`` and built from the env's oracle by
``banditlab.registry.make_benchmark_policy(env.oracle, "oomd_oracle_hint")`` (or
``"dynamic_comparator"``).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.sea.common import (
    POSITIVE,
    SEA_ORACLE_TAGS,
    SEA_TAGS,
    SEAOracleHandle,
    require_ball_space,
)
from banditlab.core import Agent, AgentKernel, KernelAgent
from banditlab.kernels.projections import project_ball_inplace
from banditlab.validation import Boolean, Options, validate_value

_OOMD_STEPS = ("self_confident", "strongly_convex")


class OOMDHParams(NamedTuple):
    """Hyperparameters of the OOMD kernel (``AgentKernel.hparams``).

    Attributes:
        radius: float64, ball radius R.
        diameter: float64, D.
        smoothness: float64, L (the ``1/(4L)`` cap).
        delta: float64, additive constant of the self-confident step.
        cap: int64, 1 to cap the step at ``1/(4L)``.
        step_kind: int64, index into ``("self_confident", "strongly_convex")``.
        c: float64, constant of the strongly convex step.
        strong_convexity: float64, lambda.
    """

    radius: float
    diameter: float
    smoothness: float
    delta: float
    cap: np.int64
    step_kind: np.int64
    c: float
    strong_convexity: float


O_XHAT, O_HINT, O_X = range(3)
"""Rows of ``OOMDState.buf``."""


class OOMDState(NamedTuple):
    """Optimistic OMD state (updated in place). ``d`` is the dimension.

    The three vectors are rows of one array: a round's kernels then read two arrays (Numba
    counts references per array and per kernel call).

    Attributes:
        buf: float64[3, d], rows ``O_XHAT`` the secondary iterate ``xhat_t``, ``O_HINT`` the
            hint ``M_t`` (the last observed gradient; zeros at t = 1), ``O_X`` the point
            played this round (``select`` returns a view of this row).
        acc: float64[2], (``sum_{s<t} ||g_s - M_s||^2``, step size ``eta_t`` of this round).
    """

    buf: np.ndarray
    acc: np.ndarray

    @property
    def xhat(self) -> np.ndarray:
        """The secondary iterate (a view of ``buf[O_XHAT]``)."""
        return self.buf[O_XHAT]

    @property
    def hint(self) -> np.ndarray:
        """The hint ``M_t`` (a view of ``buf[O_HINT]``)."""
        return self.buf[O_HINT]

    @property
    def x(self) -> np.ndarray:
        """The point played this round (a view of ``buf[O_X]``)."""
        return self.buf[O_X]


@njit(cache=True)
def oomd_init(dims, hparams, rng):
    """``xhat_1 = 0``, ``M_1 = 0``."""
    return OOMDState(np.zeros((3, dims[0])), np.zeros(2))


@njit(cache=True)
def oomd_step_size(acc0, hparams, t):
    """``eta_t`` from ``acc0 = sum_{s<t} ||g_s - M_s||^2`` (only past rounds).

    ``hparams`` is an :class:`OOMDHParams`; ``step_kind`` 0 (self-confident):
    ``min(D / sqrt(delta + acc0), 1/(4L))``; 1 (strongly convex): ``c / (lambda t)``, capped
    at ``1/(4L)`` when ``cap``.
    """
    if hparams.step_kind == 0:
        eta = hparams.diameter / np.sqrt(hparams.delta + acc0)
    else:
        eta = hparams.c / (hparams.strong_convexity * t)
    if hparams.cap != 0:
        eta = min(eta, 1.0 / (4.0 * hparams.smoothness))
    return eta


@njit(inline="always")
def _scale_row_to_ball(buf, row, ss, radius):
    """Scale ``buf[row]``, of squared norm ``ss``, onto the ball if it lies outside.

    The sequential squared norm is summed while the row is written, so this is
    ``project_ball_inplace`` without a second pass.
    """
    nrm = np.sqrt(ss)
    if nrm > radius:
        f = radius / nrm
        for i in range(buf.shape[1]):
            buf[row, i] *= f


@njit(cache=True)
def oomd_select(state, hparams, obs, t, rng):
    """``x_t = Pi_X(xhat_t - eta_t M_t)``; stores ``eta_t`` for the second half-step.

    Returns the row ``O_X`` of ``state.buf`` (a view; the env reads it during its step).
    """
    buf = state.buf  # fields first, then no tuple access
    acc = state.acc
    eta = oomd_step_size(acc[0], hparams, t)
    acc[1] = eta
    ss = 0.0
    for i in range(buf.shape[1]):
        v = buf[O_XHAT, i] - eta * buf[O_HINT, i]
        buf[O_X, i] = v
        ss += v * v
    _scale_row_to_ball(buf, O_X, ss, hparams.radius)
    return buf[O_X]


@njit(cache=True)
def oomd_update(state, hparams, obs, action, reward, next_obs):
    """``xhat_{t+1} = Pi_X(xhat_t - eta_t g_t)`` (same ``eta_t``), then ``M_{t+1} = g_t``."""
    buf = state.buf  # fields first, then no tuple access
    acc = state.acc
    eta = acc[1]
    s = 0.0
    ss = 0.0
    for i in range(buf.shape[1]):  # g = next_obs[:d] (data feedback appends the data)
        gi = next_obs[i]
        v = buf[O_XHAT, i] - eta * gi
        buf[O_XHAT, i] = v
        ss += v * v
        diff = gi - buf[O_HINT, i]
        s += diff * diff
        buf[O_HINT, i] = gi
    _scale_row_to_ball(buf, O_XHAT, ss, hparams.radius)
    acc[0] += s


class OOMD(KernelAgent):
    """Optimistic OMD (Euclidean two-step form) with the last observed gradient as hint.

    Each round: ``x_t = Pi_X(xhat_t - eta_t M_t)``; play it, observe ``g_t = grad f_t(x_t)``;
    ``xhat_{t+1} = Pi_X(xhat_t - eta_t g_t)``; ``M_{t+1} = g_t``. ``xhat_1 = 0``, ``M_1 = 0``.
    ``eta_t`` uses only rounds ``s < t`` and is the same in both half-steps.

    Step sizes (constants not verified against the papers' full texts [I]):

    * ``step="self_confident"`` (convex + smooth): ``eta_t = min(D / sqrt(delta +
      sum_{s<t} ||g_s - M_s||^2), 1/(4L))`` (cap with ``cap=True``); expected static regret
      ``O(sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T}))``.
    * ``step="strongly_convex"``: ``eta_t = c / (lambda t)`` (whether c is 1 or 2 in the
      papers is not verified [I]); regret ``O((sigma^2_max + Sigma^2_max) log T)``.

    Deviations:
        Opt-in only (the label shows them): ``step="strongly_convex"`` (``c/(lambda t)``)
        and ``cap=False`` (no ``1/(4L)`` cap). Measured [M] (static / dynamic pseudo-regret,
        ``python benchmarks/bench_sea.py --variants``: SEAQuadratic, noise 0.1, T = 1e4, 2
        seeds): default ``fixed`` 26.9, ``drift`` dynamic 55.6; without cap 28.1 and 56.9;
        strongly convex step without cap 1.8 and 14676 (log regret on the fixed optimum, no
        tracking of the drift).

    Args:
        radius: Ball radius R (``"@known:radius"``).
        diameter: D (``"@known:diameter"``).
        smoothness: L (``"@known:smoothness"``), used by the ``1/(4L)`` cap.
        delta: Additive constant of the self-confident step (> 0).
        cap: Cap the step at ``1/(4L)``.
        step: ``"self_confident"`` or ``"strongly_convex"``.
        c: Constant of the strongly convex step.
        strong_convexity: lambda (``"@known:strong_convexity"``).

    References:
        Chen, Zhang, Tu, Zhao, Zhang, "Optimistic Online Mirror Descent for Bridging
        Stochastic and Adversarial Online Convex Optimization", ICML 2023 / JMLR 2024;
        Chiang et al., COLT 2012; Rakhlin & Sridharan, COLT 2013.
    """

    display_name: ClassVar[str] = "Optimistic OMD"
    _tags = dict(SEA_TAGS)
    _parameter_constraints = {
        "radius": POSITIVE,
        "diameter": POSITIVE,
        "smoothness": POSITIVE,
        "delta": POSITIVE,
        "step": Options(*_OOMD_STEPS),
        "cap": Boolean(),
    }

    def __init__(self, radius: float = 1.0, diameter: float = 2.0, smoothness: float = 1.0,
                 delta: float = 1.0, cap: bool = True, step: str = "self_confident",
                 c: float = 1.0, strong_convexity: float = 1.0):
        self.radius = radius
        self.diameter = diameter
        self.smoothness = smoothness
        self.delta = delta
        self.cap = cap
        self.step = step
        self.c = c
        self.strong_convexity = strong_convexity

    def variant_tags(self) -> tuple[str, ...]:
        """``"c/(lambda t) step"`` for the strongly convex step, ``"no 1/(4L) cap"``."""
        tags = ("c/(lambda t) step",) if self.step == "strongly_convex" else ()
        return tags + (() if self.cap else ("no 1/(4L) cap",))

    def _validate_params(self, action_space, observation_space) -> None:
        """Declared constraints, the strongly convex constants when used, then the ball."""
        super()._validate_params(action_space, observation_space)
        if self.step == "strongly_convex":
            validate_value("c", self.c, POSITIVE)
            validate_value("strong_convexity", self.strong_convexity, POSITIVE)
        require_ball_space(action_space, float(self.radius), observation_space)

    def make_kernel(self) -> AgentKernel:
        """OOMD kernel."""
        hp = OOMDHParams(
            radius=float(self.radius), diameter=float(self.diameter),
            smoothness=float(self.smoothness), delta=float(self.delta),
            cap=np.int64(bool(self.cap)), step_kind=np.int64(_OOMD_STEPS.index(self.step)),
            c=float(self.c), strong_convexity=float(self.strong_convexity),
        )
        return AgentKernel(hp, oomd_init, oomd_select, oomd_update)


class OracleHintOOMD(Agent):
    """OOMD whose hint is the true expected gradient ``M_t = grad F_t(xhat_t)`` (oracle agent).

    Not implementable by a learner (it reads the env's oracle); it upper-bounds the value
    of a perfect hint. Same self-confident step as :class:`OOMD`. Registered as
    ``oracle/SEAOracleHintOOMD-v0`` (tag ``needs_oracle``); build it with
    ``make_benchmark_policy(env.oracle, "oomd_oracle_hint")``. Python path only.

    Args:
        oracle: The env's :class:`~banditlab.envs.sea.oracle.SEAOracle`.
        radius: Ball radius R.
        diameter: D.
        smoothness: L (for the ``1/(4L)`` cap).
        delta: Additive constant of the self-confident step.
        cap: Cap the step at ``1/(4L)``.
    """

    display_name: ClassVar[str] = "Optimistic OMD with oracle hint"
    _tags = dict(SEA_ORACLE_TAGS)
    _parameter_constraints = {
        "oracle": SEAOracleHandle("expected_gradient"),
        "radius": POSITIVE,
        "diameter": POSITIVE,
        "smoothness": POSITIVE,
        "delta": POSITIVE,
    }

    def __init__(self, oracle=None, radius: float = 1.0, diameter: float = 2.0,
                 smoothness: float = 1.0, delta: float = 1.0, cap: bool = True):
        self.oracle = oracle
        self.radius = radius
        self.diameter = diameter
        self.smoothness = smoothness
        self.delta = delta
        self.cap = cap

    def _validate_params(self, action_space, observation_space) -> None:
        """Declared constraints (the oracle first), then the ball."""
        super()._validate_params(action_space, observation_space)
        require_ball_space(action_space, float(self.radius), observation_space)

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Start at ``xhat = 0``."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        d = int(action_space.shape[0])
        self.xhat_ = np.zeros(d)
        self.hint_ = np.zeros(d)
        self.sumsq_ = 0.0
        self.eta_ = 0.0
        self.t_ = 0

    def act(self, observation):
        """``x_t = Pi_X(xhat_t - eta_t grad F_t(xhat_t))``."""
        eta = self.diameter / np.sqrt(self.delta + self.sumsq_)
        if self.cap:
            eta = min(eta, 1.0 / (4.0 * self.smoothness))
        self.eta_ = eta
        self.hint_ = np.asarray(self.oracle.expected_gradient(self.xhat_), dtype=np.float64)
        x = self.xhat_ - eta * self.hint_
        project_ball_inplace(x, float(self.radius))
        return x

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """``xhat_{t+1} = Pi_X(xhat_t - eta_t g_t)``."""
        g = np.asarray(next_observation, dtype=np.float64)[: self.xhat_.shape[0]]
        self.xhat_ = self.xhat_ - self.eta_ * g
        project_ball_inplace(self.xhat_, float(self.radius))
        self.sumsq_ += float(np.sum((g - self.hint_) ** 2))
        self.t_ += 1


class DynamicComparator(Agent):
    """Plays the dynamic comparator ``u_t = argmin_X F_t`` (oracle agent, zero pseudo-regret).

    Registered as ``oracle/SEADynamicComparator-v0`` (tag ``needs_oracle``); build it with
    ``make_benchmark_policy(env.oracle, "dynamic_comparator")``.

    Args:
        oracle: The env's :class:`~banditlab.envs.sea.oracle.SEAOracle`.
    """

    display_name: ClassVar[str] = "Dynamic comparator"
    _tags = {**SEA_ORACLE_TAGS, "learns": False}
    _parameter_constraints = {"oracle": SEAOracleHandle("next_comparator")}

    def __init__(self, oracle=None):
        self.oracle = oracle

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Check the oracle; nothing to learn."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)

    def act(self, observation):
        """``u_t`` for the round about to be played."""
        return np.asarray(self.oracle.next_comparator(), dtype=np.float64)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn."""
