"""SEA rate claims with fixed seeds: log regret (strongly convex), d log T (exp-concave), learns.

Regret curves come from ``banditlab.harness.run`` at checkpoints one decade apart; a rate is
read from the increments per decade (logarithmic growth keeps them constant, sqrt(T) growth
multiplies them by sqrt(10) ~ 3.16 per decade). The runs use the Python path: the fused loop
is compiled per process (~5 s per env/agent pair), more than these few runs cost.
"""

from __future__ import annotations

import numpy as np
import pytest

from banditlab.agents.sea.ogd import OGD
from banditlab.agents.sea.ons import OptimisticONS
from banditlab.agents.sea.oomd import OOMD
from banditlab.core import Agent
from banditlab.envs.sea.env import SEALogistic, SEAQuadratic
from banditlab.harness import run

CPS = [10, 100, 1000, 10000]


def _curves(make_env, make_agent, seeds, cps=CPS, backend="python"):
    """float64[len(seeds), len(cps)] static pseudo-regret at the checkpoints ``cps``."""
    out = []
    for s in seeds:
        res = run(make_env(), make_agent(), seed=s, checkpoints=cps, backend=backend)
        np.testing.assert_array_equal(res.t, cps)
        out.append(res.curves["pseudo_regret/static"])
    return np.array(out)


# --------------------------------------------------------------------------- strongly convex
# SEAQuadratic, H = I, d = 10, fixed theta = 0.5 e_1 (interior), ball noise s = 0.3. Then
# OGD with eta_t = 1/(lambda t) from x_1 = 0 is exactly the running mean x_t = mean(z_1..z_{t-1})
# while it stays inside the ball (|mean xi| ~ s sqrt(d/t), so from t ~ 3 on), the static
# comparator is theta, and the pseudo-regret increment over (t0, t1] is
# sum_t 0.5 E||x_t - theta||^2 = 0.5 d s^2 (H_{t1-1} - H_{t0-1}) (E[xi xi'] = s^2 I for the
# ball noise): an independent prediction of the log rate.
SC_ENV = {"d": 10, "noise": 0.3, "noise_kind": "ball", "schedule": "fixed", "amplitude": 0.5,
          "horizon": 1000}
SC_CPS = [10, 100, 1000]


@pytest.fixture(scope="module")
def sc_curves():
    seeds = range(12)
    env = lambda: SEAQuadratic(**SC_ENV)  # noqa: E731
    return {
        "ogd": _curves(env, lambda: OGD(step="strongly_convex", strong_convexity=1.0), seeds,
                       SC_CPS, "python"),
        "oomd": _curves(env, lambda: OOMD(step="strongly_convex", c=1.0, strong_convexity=1.0,
                                          cap=False), seeds, SC_CPS, "python"),
    }


def _harmonic(n):
    return float(np.sum(1.0 / np.arange(1, n + 1)))


def test_ogd_strongly_convex_decade_increment_matches_the_running_mean_prediction(sc_curves):
    d, s = SC_ENV["d"], SC_ENV["noise"]
    inc = np.diff(sc_curves["ogd"].mean(axis=0))  # decades (10, 100], (100, 1000]
    pred = [0.5 * d * s**2 * (_harmonic(b - 1) - _harmonic(a - 1))
            for a, b in zip(SC_CPS[:-1], SC_CPS[1:], strict=True)]
    # 12 seeds; the per-seed sd of a decade increment is ~45 % (x_t moves slowly).
    np.testing.assert_allclose(inc, pred, rtol=0.35)


@pytest.mark.parametrize("agent", ["ogd", "oomd"])
def test_strongly_convex_steps_have_logarithmic_static_regret(sc_curves, agent):
    m = sc_curves[agent].mean(axis=0)
    inc = np.diff(m)
    assert np.all(inc > 0.0)
    # Log growth: increments per decade stay bounded (sqrt(T) would multiply them by 3.16).
    assert inc[1] < 1.7 * inc[0]
    # regret / log T stays bounded while regret / sqrt T falls.
    per_log = m / np.log(SC_CPS)
    assert per_log.max() < 2.0 * per_log.min()
    per_sqrt = m / np.sqrt(SC_CPS)  # pure log T: ratio 0.3 over two decades; sqrt T: 1
    assert per_sqrt[-1] < 0.5 * per_sqrt[0]
    # The level: the running mean pays 0.5 d s^2 log T; OOMD(1/(lambda t)) is within 1.5x of it.
    ref = sc_curves["ogd"].mean(axis=0)
    assert m[-1] < 1.5 * ref[-1]


# --------------------------------------------------------------------------- exp-concave
# SEALogistic (features on the unit sphere, R = 1, theta = 0.5 e_1 interior): exp-concave on
# the ball with alpha = exp(-1) and G = 1, so ONS's beta = 0.5 min(1/(4GD), alpha) = 1/16 for
# every d. The d log T regime starts later for larger d (about t >~ 100 d here), so the
# per-decade test uses d = 2, and the d-scaling test the last decade of d = 2 vs d = 4.
# Measured (3 seeds): d = 2 increments 3.7, 12.1, 15.4 per decade; d = 4: 2.5, 17.0, 32.7.
# OptimisticONS without hint and accumulating g is slower to reach the log regime here
# (d = 2: 3.1, 17.0, 29.7), so it is not part of the per-decade test.
def _logistic(d):
    return lambda: SEALogistic(d=d, amplitude=0.5, horizon=10000)


def _ons(optimistic):
    kc = SEALogistic(d=2, amplitude=0.5, horizon=10).known_constants

    def make():
        kw = {"accumulate": "g_minus_m", "optimistic": True} if optimistic else {
            "accumulate": "g", "optimistic": False}
        return OptimisticONS(grad_bound=kc["grad_bound"], exp_concavity=kc["exp_concavity"],
                             **kw)

    return make


@pytest.fixture(scope="module")
def ons_curves():
    seeds = range(3)
    return {
        ("oons", 2): _curves(_logistic(2), _ons(True), seeds, CPS, "python"),
        ("oons", 4): _curves(_logistic(4), _ons(True), seeds, CPS, "python"),
    }


def test_optimistic_ons_regret_grows_logarithmically_on_logistic_losses(ons_curves):
    m = ons_curves[("oons", 2)].mean(axis=0)
    inc = np.diff(m)
    assert np.all(inc > 0.0)
    # Last decade vs the one before: ~1 for log T (sqrt T would give 3.16).
    assert inc[2] < 1.7 * inc[1]
    per_sqrt = m / np.sqrt(CPS)
    assert per_sqrt[-1] < 0.75 * per_sqrt[-2]


def test_optimistic_ons_regret_scales_with_the_dimension(ons_curves):
    inc2 = np.diff(ons_curves[("oons", 2)].mean(axis=0))[-1]
    inc4 = np.diff(ons_curves[("oons", 4)].mean(axis=0))[-1]
    # d log T: doubling d doubles the per-decade increment (measured ~2.1).
    assert 1.4 < inc4 / inc2 < 3.0


# --------------------------------------------------------------------------- learns
class _UniformBall(Agent):
    """Plays points uniform in the ball (test-local baseline; it ignores all feedback)."""

    display_name = "Uniform in the ball"
    _tags = {"action_kind": "continuous", "families": ("sea",), "learns": False}

    def __init__(self, radius: float = 1.0):
        self.radius = radius

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        self.rng_ = np.random.default_rng(seed)
        self.d_ = int(action_space.shape[0])

    def act(self, observation):
        v = self.rng_.standard_normal(self.d_)
        return self.radius * self.rng_.random() ** (1.0 / self.d_) * v / np.linalg.norm(v)

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        pass


def test_oomd_learns_beats_a_uniform_random_agent():
    kw = {"schedule": "fixed", "noise": 0.1, "horizon": 2000}
    for seed in range(5):
        oomd = run(SEAQuadratic(**kw), OOMD(), seed=seed, checkpoints=[2000],
                   backend="python").finals["pseudo_regret/static"]
        rand = run(SEAQuadratic(**kw), _UniformBall(), seed=seed, checkpoints=[2000],
                   backend="python").finals["pseudo_regret/static"]
        # Uniform play pays E F(x) - F(e_1) = (E||x||^2 + A^2 - R^2)/2 ~ 1.92 per round (~3830).
        assert rand > 3000.0
        assert oomd < 0.01 * rand
