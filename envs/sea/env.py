"""Stochastically extended adversarial (SEA) online convex optimisation environments.

Each round an adversary fixes ``theta_t`` (the *schedule*), the learner plays a point
``x_t`` of the Euclidean ball ``{||x|| <= R}``, a loss ``f_t`` is drawn around
``theta_t`` and the learner observes the gradient ``g_t = grad f_t(x_t)`` or, with
``feedback="data"``, the gradient and the drawn data that define ``f_t`` (so it can
evaluate the whole loss, not only its slope at ``x_t``). The noise level ``s``
(stochastic variance sigma^2) and the schedule (adversarial variation Sigma^2) are the
two knobs that interpolate between i.i.d. and adversarial OCO (Sachs et al., NeurIPS 2022;
Chen et al., ICML 2023 / JMLR 2024).

The Gymnasium classes live here; the Numba kernels, the parameter tuple
:class:`~banditlab.envs.sea.model.SEAParams` and the state layout live in the leaf
module :mod:`banditlab.envs.sea.model`. One set of kernels serves the three losses, so
every env runs on the fused Numba path.

Noise draws per step (whatever the action, so runs with the same env seed face common
random numbers): quadratic ``d`` normals (+1 uniform for ``noise_kind="ball"``); least
squares ``d`` uniforms + 1 normal (gaussian) or 1 uniform (ball); logistic ``d`` normals
+ 1 uniform. The ``reactive`` schedule is an *adaptive* adversary: theta depends on the
learner's previous action, so only the noise (not theta) is common across agents.
"""

from __future__ import annotations

from types import MappingProxyType

import gymnasium as gym
import numpy as np

from banditlab.core import BanditlabError, EnvKernel, KernelEnv
from banditlab.envs.sea.model import (
    FEEDBACKS,
    KIND_LEAST_SQUARES,
    KIND_LOGISTIC,
    KIND_QUADRATIC,
    NOISE_KINDS,
    S_FX,
    S_LOSS,
    S_OBSVAR,
    S_SIGMA2,
    S_VAR,
    SCHEDULES,
    V_GRAD_EXP,
    V_THETA_PREV,
    V_U,
    V_U_PREV,
    V_X,
    SEAParams,
    sea_init,
    sea_least_squares_checkpoint,
    sea_least_squares_step,
    sea_logistic_checkpoint,
    sea_logistic_step,
    sea_observe,
    sea_quadratic_checkpoint,
    sea_quadratic_step,
)
from banditlab.envs.sea.oracle import SEAOracle
from banditlab.validation import Array, Interval, Options, validate_params

__all__ = ["SEAQuadratic", "SEALeastSquares", "SEALogistic"]

_POSITIVE = Interval("real", 0, None, closed="neither")
_NONNEGATIVE = Interval("real", 0, None)

_CONSTRAINTS = {
    "d": Interval("int", 1, None),
    "radius": _POSITIVE,
    "noise": _NONNEGATIVE,
    "noise_kind": Options(*NOISE_KINDS),
    "schedule": Options(*SCHEDULES),
    "amplitude": [None, _NONNEGATIVE],
    "period": _POSITIVE,
    "rho": Interval("real", 0, 1),
    "stages": Interval("int", 1, None),
    "horizon": Interval("int", 1, None),
    "h": [None, Array("float", shape=(None,), low=0, closed="neither")],
    "feature_norm": _POSITIVE,
    "n_probe": Interval("int", 2, None),
    "feedback": Options(*FEEDBACKS),
}
"""Per-argument constraints of the SEA constructors (cross-argument checks follow in code)."""

_STEP_KERNELS = {
    KIND_QUADRATIC: (sea_quadratic_step, sea_quadratic_checkpoint),
    KIND_LEAST_SQUARES: (sea_least_squares_step, sea_least_squares_checkpoint),
    KIND_LOGISTIC: (sea_logistic_step, sea_logistic_checkpoint),
}


def _diagonal_h(h: np.ndarray | None, d: int) -> np.ndarray:
    """The diagonal of ``H`` as float64[d] (ones when ``h`` is ``None``).

    Raises:
        BanditlabError: When ``h`` does not have ``d`` entries.
    """
    if h is None:
        return np.ones(d)
    if h.shape != (d,):
        raise BanditlabError(
            f"h: expected {d} finite numbers > 0 (the diagonal of H), got shape {h.shape}"
        )
    return h


def _finite(bound: float) -> float:
    """``bound``, or the largest float64 for an unbounded quantity."""
    return float(bound) if np.isfinite(bound) else float(np.finfo(np.float64).max)


def _ball_spaces(d: int, radius: float, grad_bound: float,
                 record_bounds: tuple[float, float] | None = None,
                 ) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """``(action_space, observation_space)``: the box around the ball and the observation box.

    Args:
        d: Dimension.
        radius: Ball radius R.
        grad_bound: Bound on the gradient entries (``inf`` when unbounded).
        record_bounds: ``None`` for gradient feedback; for data feedback the bounds of the
            entries of the data record: ``(vector entries, last entry)``.
    """
    action_space = gym.spaces.Box(low=-radius, high=radius, shape=(d,), dtype=np.float64)
    high = np.full(d, _finite(grad_bound))
    if record_bounds is not None:
        vec, last = record_bounds
        high = np.concatenate([high, np.full(d, _finite(vec)), [_finite(last)]])
    observation_space = gym.spaces.Box(low=-high, high=high, dtype=np.float64)
    return action_space, observation_space


# --------------------------------------------------------------------------- classes
class _SEABase(KernelEnv):
    """Shared implementation of the SEA envs (see the subclasses' docstrings)."""

    family = "sea"

    run_kind = "continuing"
    extra_metrics = ("loss", "stochastic_variance", "adversarial_variation", "observed_variation")
    _kind = KIND_QUADRATIC

    def __init__(
        self,
        d: int = 10,
        radius: float = 1.0,
        noise: float = 0.1,
        noise_kind: str = "ball",
        schedule: str = "fixed",
        amplitude: float | None = None,
        period: float = 1000.0,
        rho: float = 0.05,
        stages: int = 10,
        horizon: int = 10000,
        h=None,
        feature_norm: float = 1.0,
        n_probe: int = 256,
        feedback: str = "gradient",
    ):
        v = validate_params(_CONSTRAINTS, {
            "d": d, "radius": radius, "noise": noise, "noise_kind": noise_kind,
            "schedule": schedule, "amplitude": amplitude, "period": period, "rho": rho,
            "stages": stages, "horizon": horizon, "h": h, "feature_norm": feature_norm,
            "n_probe": n_probe, "feedback": feedback,
        })
        self.d, self.radius, self.noise = v["d"], v["radius"], v["noise"]
        self.noise_kind, self.schedule = v["noise_kind"], v["schedule"]
        self.amplitude = 2.0 * self.radius if v["amplitude"] is None else v["amplitude"]
        self.period, self.rho, self.stages = v["period"], v["rho"], v["stages"]
        self.horizon = self.run_length = v["horizon"]
        if self.schedule == "drift" and self.d < 2:
            raise BanditlabError("d: the drift schedule rotates in a plane and needs d >= 2")
        self._h = _diagonal_h(v["h"], self.d)
        self.h = self._h if h is None else h  # as given (None: the ones used)
        self.feature_norm, self.n_probe = v["feature_norm"], v["n_probe"]
        self.feedback = v["feedback"]
        gb = self._grad_bound()
        record = self._record_bounds() if self.feedback == "data" else None
        self.action_space, self.observation_space = _ball_spaces(self.d, self.radius, gb, record)
        self.oracle = SEAOracle(self, estimated=self._kind == KIND_LOGISTIC)
        self.known_constants = MappingProxyType(self._known_constants(gb))
        self._kernel_cache = None

    # ------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__()
        state["_kernel_cache"] = None  # rebuilt lazily (holds jitted dispatchers)
        return state

    # ------------------------------------------------------------- constants
    def _grad_bound(self) -> float:
        raise NotImplementedError

    def _known_constants(self, grad_bound: float) -> dict:
        raise NotImplementedError

    def _record_bounds(self) -> tuple[float, float]:
        """Bounds of the data record's entries: ``(vector entries, last entry)``."""
        raise NotImplementedError

    def _probes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(probes, probe_pts)``: logistic probe features and points (placeholders here)."""
        d = self.d
        return np.zeros((1, d)), np.zeros((1, d))

    def _make_params(self) -> SEAParams:
        """The kernel parameters of this instance for the current ``run_length``."""
        theta_bar = np.zeros(self.d)
        theta_bar[0] = self.amplitude
        probes, pts = self._probes()
        return SEAParams(
            kind=np.int64(self._kind), d=np.int64(self.d), radius=float(self.radius),
            h=self._h.copy(), noise=float(self.noise),
            noise_kind=np.int64(NOISE_KINDS.index(self.noise_kind)),
            schedule=np.int64(SCHEDULES.index(self.schedule)),
            amplitude=float(self.amplitude), period=float(self.period), rho=float(self.rho),
            stages=np.int64(self.stages), theta_bar=theta_bar,
            feature_norm=float(self.feature_norm), probes=probes, probe_pts=pts,
            horizon=np.int64(self.run_length),
            feedback=np.int64(FEEDBACKS.index(self.feedback)),
        )

    @property
    def kernel(self) -> EnvKernel:
        """The :class:`EnvKernel`, rebuilt if ``run_length`` changed (switching stages, storage)."""
        cache = self.__dict__.get("_kernel_cache")
        if cache is not None and cache[0] == self.run_length:
            return cache[1]
        step, checkpoint = _STEP_KERNELS[self._kind]
        kernel = EnvKernel(
            params=self._make_params(), init=sea_init, step=step, observe=sea_observe,
            checkpoint=checkpoint, comparator_kinds=("static", "dynamic"),
            extra_metrics=self.extra_metrics,
        )
        self._kernel_cache = (self.run_length, kernel)
        return kernel

    # ------------------------------------------------------------- hooks
    def _validate_action(self, action):
        try:
            arr = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.shape != (self.d,):
            shape = None if arr is None else arr.shape
            raise BanditlabError(f"action: expected shape ({self.d},), got {shape}")
        if not np.all(np.isfinite(arr)):
            raise BanditlabError("action: must be finite")
        if np.any(np.abs(arr) > self.radius * (1.0 + 1e-12)):
            raise BanditlabError(
                f"action: outside the action space Box(-{self.radius}, {self.radius}); points "
                "of the box outside the ball are projected onto it"
            )
        return arr.copy()  # the kernel step projects onto the ball (both paths alike)

    def _on_reset(self) -> None:
        self.oracle._reset()

    def _make_info_extra(self, action, reward):
        st = self.state_
        vec = st.vec
        info = {
            "loss": float(st.scal[S_LOSS]),
            "expected_loss": float(st.scal[S_FX]),
            "grad": st.grad.copy(),
            "grad_expected": vec[V_GRAD_EXP].copy(),
            "stochastic_variance": float(st.scal[S_SIGMA2]),
            "adversarial_variation": float(st.scal[S_VAR]),
            "observed_variation": float(st.scal[S_OBSVAR]),
            "comparator_action": vec[V_U_PREV if self._kind == KIND_LOGISTIC else V_U].copy(),
            "theta": vec[V_THETA_PREV].copy(),
            "action_projected": vec[V_X].copy(),
        }
        if self.t_ >= self.run_length:
            info.update(self.oracle.run_totals())
        return info


class SEAQuadratic(_SEABase):
    """SEA online convex optimisation with quadratic losses (every SEA quantity exact).

    ## Description
    Each round the adversary's schedule fixes ``theta_t``; the learner plays ``x_t`` in the
    ball ``{||x|| <= R}``; ``z_t = theta_t + xi_t`` is drawn and the loss is
    ``f_t(x) = 0.5 ||x - z_t||_H^2`` with ``H = diag(h)``. Expected loss
    ``F_t(x) = 0.5 ||x - theta_t||_H^2 + 0.5 s^2 sum_i h_i``.

    ## Action Space
    ``Box(-R, R, (d,))``; the decision set is the ball ``{||x|| <= R}`` inside it. Points of
    the box outside the ball are projected onto the ball (Euclidean; the projected point is
    what is played and is reported as ``action_projected``); agents should project
    themselves. Points outside the box, non-finite values or a wrong shape raise
    :class:`BanditlabError`.

    ## Observation Space
    ``feedback="gradient"`` (default): ``Box(-G, G, (d,))`` (``G`` the gradient bound; the
    largest float for Gaussian noise): the last gradient ``grad f_{t-1}(x_{t-1})``, zeros
    before the first round.

    ``feedback="data"``: float64[2d + 1], the same gradient followed by the data record of
    the round, ``(z_{t-1}, 0)``: the noisy centre that defines ``f_{t-1}``, and a zero (the
    slot holding ``y`` for the other losses). Bounds ``G`` on the gradient entries,
    ``A + s sqrt(d + 2)`` on the entries of ``z`` (the largest float for Gaussian noise) and
    1 on the last entry (always 0). ``H`` is a known constant (``known_constants["h"]``),
    so the learner knows ``f_{t-1}`` exactly. Zeros before the first round.

    ## Reward
    ``-f_t(x_t)``. Noise: ``d`` normals per step, plus one uniform for ``noise_kind="ball"``
    (``xi`` uniform in the ball of radius ``s sqrt(d + 2)``, so ``E[xi xi'] = s^2 I``).

    ## Regret
    * ``dynamic`` (primary, per step): comparator ``u_t = argmin_X F_t`` (H-weighted projection
      of ``theta_t``); realised ``-sum f_s(u_s)``, expected ``-sum F_s(u_s)``.
    * ``static``: best fixed point in hindsight, ``-min_X sum_s f_s`` (realised, the H-weighted
      projection of the mean of the ``z_s``) and ``-min_X sum_s F_s`` (expected). Can be
      negative on moving sequences; never clipped.

    ## Information
    ``t``, ``expected_reward`` (``-F_t(x_t)``), ``optimal_expected_reward`` (``-F_t(u_t)``),
    ``loss``, ``expected_loss``, ``grad``, ``grad_expected``, ``stochastic_variance``
    (``sigma_t^2 = s^2 sum h_i^2``, exact), ``adversarial_variation``
    (``Sigma_t^2 = ||H(theta_t - theta_{t-1})||^2``, ``Sigma_1^2 := 0``), ``observed_variation``
    (``||g_t - g_{t-1}||^2``, 0 at t = 1), ``comparator_action``, ``theta``,
    ``action_projected``; on the final step also the run totals of
    :meth:`SEAOracle.run_totals`.

    ## Arguments
    ``d`` (10), ``radius`` (1.0), ``noise`` s (0.1), ``noise_kind`` ("ball" or "gaussian"),
    ``schedule`` (one of ``fixed``, ``drift``, ``alternating``, ``poisoned``, ``switching``,
    ``reactive``), ``amplitude`` A (default 2R), ``period`` P (1000), ``rho`` (0.05),
    ``stages`` S (10), ``horizon`` (10000), ``h`` (diagonal of H, default ones), ``feedback``
    (``"gradient"`` or ``"data"``, see Observation Space; ``banditlab/SEAQuadraticData-v0``
    is the registered data-feedback instance).

    ## Known constants
    ``d``, ``radius``, ``diameter`` (2R), ``smoothness`` (max h), ``strong_convexity``
    (min h), ``grad_bound``, ``exp_concavity``, ``horizon``, ``loss`` (``"quadratic"``) and
    ``h`` (float64[d]).

    ## References
    Sachs, Hadiji, van Erven, Guzman, NeurIPS 2022 (arXiv 2202.07554); Chen, Zhang, Tu, Zhao,
    Zhang, ICML 2023 / JMLR 2024 (arXiv 2302.04552).

    ## Version History
    * v0: initial version (the ``feedback`` argument was added later; its default,
      ``"gradient"``, is the original behaviour).
    """

    _kind = KIND_QUADRATIC

    def __init__(self, d=10, radius=1.0, noise=0.1, noise_kind="ball", schedule="fixed",
                 amplitude=None, period=1000.0, rho=0.05, stages=10, horizon=10000, h=None,
                 feedback="gradient"):
        super().__init__(d=d, radius=radius, noise=noise, noise_kind=noise_kind,
                         schedule=schedule, amplitude=amplitude, period=period, rho=rho,
                         stages=stages, horizon=horizon, h=h, feedback=feedback)

    def _grad_bound(self) -> float:
        if self.noise_kind == "gaussian" and self.noise > 0:
            return float("inf")
        xi = self.noise * np.sqrt(self.d + 2.0)
        return float(np.max(self._h) * (self.radius + self.amplitude + xi))

    def _record_bounds(self) -> tuple[float, float]:
        # The last entry is always 0; its bound is 1 (Gymnasium rejects a Box with low = high).
        if self.noise_kind == "gaussian" and self.noise > 0:
            return float("inf"), 1.0
        return float(self.amplitude + self.noise * np.sqrt(self.d + 2.0)), 1.0

    def _known_constants(self, grad_bound):
        lam = float(np.min(self._h))
        return {
            "d": self.d, "radius": self.radius, "diameter": 2.0 * self.radius,
            "smoothness": float(np.max(self._h)), "strong_convexity": lam,
            "grad_bound": grad_bound,
            "exp_concavity": lam / grad_bound**2 if np.isfinite(grad_bound) else 0.0,
            "horizon": self.horizon, "loss": "quadratic", "h": self._h.copy(),
        }


class SEALeastSquares(_SEABase):
    """SEA online least squares with Rademacher features.

    ## Description
    ``f_t(x) = 0.5 (a_t'x - y_t)^2`` with ``a_t`` uniform on ``{-1, 1}^d`` and
    ``y_t = a_t'theta_t + eps_t``; ``E[a a'] = I`` gives ``F_t(x) = 0.5 ||x - theta_t||^2 +
    0.5 s^2``. Individual ``f_t`` are convex but not strongly convex; ``F_t`` is 1-strongly
    convex and 1-smooth.

    ## Action Space
    ``Box(-R, R, (d,))``, projected onto the ball (see :class:`SEAQuadratic`).

    ## Observation Space
    ``feedback="gradient"`` (default): the last gradient ``a (a'x - y)``, float64[d]; zeros
    before the first round. ``feedback="data"``: float64[2d + 1], the gradient followed by
    the round's data ``(a_{t-1}, y_{t-1})`` (bounds 1 on ``a``, ``sqrt(d) A + s sqrt 3`` on
    ``y``, the largest float for Gaussian noise); zeros before the first round.

    ## Reward
    ``-f_t(x_t)``. Noise: ``d`` uniforms (signs of ``a``) plus one normal (``noise_kind=
    "gaussian"``, ``eps ~ N(0, s^2)``) or one uniform (``"ball"``: ``eps`` uniform on
    ``[-s sqrt 3, s sqrt 3]``, variance ``s^2``).

    ## Regret
    As :class:`SEAQuadratic`; ``u_t`` is the Euclidean projection of ``theta_t``; the realised
    static comparator minimises ``0.5 x'(sum a a')x - (sum a y)'x`` over the ball (trust-region
    subproblem by eigendecomposition and bisection).

    ## Information
    As :class:`SEAQuadratic`, with ``sigma_t^2 = (d - 1)(R + ||theta_t||)^2 + d s^2`` (exact,
    derived for Rademacher features) and ``Sigma_t^2 = ||theta_t - theta_{t-1}||^2``.

    ## Arguments
    As :class:`SEAQuadratic` without ``h`` (``banditlab/SEALeastSquaresData-v0`` is the
    registered data-feedback instance). Known constants as :class:`SEAQuadratic` without
    ``h``, with ``loss = "least_squares"``.

    ## References
    Chen et al. (2023), Sachs et al. (2022).

    ## Version History
    * v0: initial version (``feedback`` added later; default ``"gradient"`` as before).
    """

    _kind = KIND_LEAST_SQUARES

    def __init__(self, d=10, radius=1.0, noise=0.1, noise_kind="ball", schedule="fixed",
                 amplitude=None, period=1000.0, rho=0.05, stages=10, horizon=10000,
                 feedback="gradient"):
        super().__init__(d=d, radius=radius, noise=noise, noise_kind=noise_kind,
                         schedule=schedule, amplitude=amplitude, period=period, rho=rho,
                         stages=stages, horizon=horizon, feedback=feedback)

    def _record_bounds(self) -> tuple[float, float]:
        if self.noise_kind == "gaussian" and self.noise > 0:
            return 1.0, float("inf")
        return 1.0, float(np.sqrt(self.d) * self.amplitude + self.noise * np.sqrt(3.0))

    def _grad_bound(self) -> float:
        if self.noise_kind == "gaussian" and self.noise > 0:
            return float("inf")
        rd = np.sqrt(self.d)
        return float(rd * (rd * (self.radius + self.amplitude) + self.noise * np.sqrt(3.0)))

    def _known_constants(self, grad_bound):
        rd = np.sqrt(self.d)
        resid = rd * (self.radius + self.amplitude) + self.noise * np.sqrt(3.0)
        return {
            "d": self.d, "radius": self.radius, "diameter": 2.0 * self.radius,
            "smoothness": 1.0, "strong_convexity": 0.0, "grad_bound": grad_bound,
            "exp_concavity": 1.0 / resid**2 if self.noise_kind == "ball" else 0.0,
            "horizon": self.horizon, "loss": "least_squares",
        }


class SEALogistic(_SEABase):
    """SEA online logistic regression.

    ## Description
    ``f_t(x) = log(1 + exp(-y_t a_t'x))`` with ``a_t`` uniform on the sphere of radius
    ``feature_norm`` and ``P(y_t = 1 | a_t) = sigmoid(a_t'theta_t)``. The schedule moves
    ``theta_t``; ``noise`` is unused (the label noise is intrinsic).

    **Estimates.** ``F_t`` has no closed form. The env replaces the expectation over ``a`` by
    an average over ``n_probe`` fixed probe features (antithetic pairs drawn once, at
    construction, from a dedicated generator seeded by the constructor arguments; no env
    stream is touched, so common random numbers are unaffected). ``expected_reward``,
    ``grad_expected``, ``u_t``, the expected static comparator, ``sigma_t^2`` and
    ``Sigma_t^2`` are computed under this estimate, and ``sigma_t^2`` / ``Sigma_t^2`` take the
    supremum over the probe points ``{0, +-R e_i}`` only. They are *estimates*, not exact
    values. The realised static comparator is an exact convex solve (projected Newton with a
    trust-region step) on the stored ``(a_s, y_s)``, warm-started, at checkpoints.

    ## Action Space
    ``Box(-R, R, (d,))``, projected onto the ball (see :class:`SEAQuadratic`).

    ## Observation Space
    ``feedback="gradient"`` (default): the last gradient ``(sigmoid(a'x) - 1[y = 1]) a``,
    float64[d]; zeros before the first round. ``feedback="data"``: float64[2d + 1], the
    gradient followed by the round's data ``(a_{t-1}, y_{t-1})`` with ``y`` in ``{-1, +1}``
    (bounds ``feature_norm`` on ``a``, 1 on ``y``); zeros before the first round.

    ## Reward
    ``-f_t(x_t)``. Noise: ``d`` normals (direction of ``a``) and one uniform (label).

    ## Regret
    As :class:`SEAQuadratic`; both kinds are marked ``exact=False`` (probe estimate).

    ## Information
    As :class:`SEAQuadratic` (estimated quantities as above).

    ## Arguments
    ``d``, ``radius``, ``schedule``, ``amplitude``, ``period``, ``rho``, ``stages``, ``horizon``
    as :class:`SEAQuadratic`; ``feature_norm`` (1.0; smoothness ``feature_norm^2 / 4``; keep
    ``R feature_norm <= 2-3``, exp-concavity ``exp(-R feature_norm)``); ``n_probe`` (256);
    ``feedback`` (``banditlab/SEALogisticData-v0`` is the registered data-feedback instance).
    Known constants as :class:`SEALeastSquares`, with ``loss = "logistic"``.

    ## References
    Chen et al. (2023), Sachs et al. (2022).

    ## Version History
    * v0: initial version (``feedback`` added later; default ``"gradient"`` as before).
    """

    _kind = KIND_LOGISTIC

    def __init__(self, d=10, radius=1.0, schedule="fixed", amplitude=None, period=1000.0,
                 rho=0.05, stages=10, horizon=10000, feature_norm=1.0, n_probe=256,
                 feedback="gradient"):
        super().__init__(d=d, radius=radius, noise=0.0, noise_kind="ball", schedule=schedule,
                         amplitude=amplitude, period=period, rho=rho, stages=stages,
                         horizon=horizon, feature_norm=feature_norm, n_probe=n_probe,
                         feedback=feedback)

    def _record_bounds(self) -> tuple[float, float]:
        return float(self.feature_norm), 1.0

    def _probes(self):
        d = self.d
        half = (self.n_probe + 1) // 2
        rng = np.random.default_rng([20260, d, half])
        a = rng.standard_normal((half, d))
        a *= self.feature_norm / np.linalg.norm(a, axis=1, keepdims=True)
        probes = np.ascontiguousarray(np.vstack([a, -a]))
        pts = np.zeros((2 * d + 1, d))
        for i in range(d):
            pts[1 + 2 * i, i] = self.radius
            pts[2 + 2 * i, i] = -self.radius
        return probes, pts

    def _grad_bound(self) -> float:
        return float(self.feature_norm)

    def _known_constants(self, grad_bound):
        return {
            "d": self.d, "radius": self.radius, "diameter": 2.0 * self.radius,
            "smoothness": self.feature_norm**2 / 4.0, "strong_convexity": 0.0,
            "grad_bound": grad_bound,
            "exp_concavity": float(np.exp(-self.radius * self.feature_norm)),
            "horizon": self.horizon, "loss": "logistic",
        }
