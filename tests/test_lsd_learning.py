"""Learning and planning claims of the LSD family at reduced size (fixed seeds, margins).

* LSD-E1 (Laforgue et al.): ISI-CombUCB1 above Oracle Greedy and vanilla CombUCB1.
* LSD-E2: Oracle Greedy trapped on arm 1; the block learners approach alternation.
* LSD-E3: LP rounding earns at least (1 - 1/e) of the recharging LP on monotone
  recharging instances.
* LSD-E4: LP-UCB's regret against its full-information counterpart grows with log-log
  slope clearly below 1.
"""

from __future__ import annotations

import numpy as np
import pytest

import banditlab.agents  # noqa: F401
import banditlab.envs  # noqa: F401
from banditlab.agents.lsd.lp_ucb import LSDLPUCB
from banditlab.core import BanditlabError
from banditlab.envs.lsd.env import LSDBandit
from banditlab.harness import run
from banditlab.registry import make_agent, make_benchmark_policy, make_env

N_SEEDS = 4


def mean_rate(env_spec, agent, horizon, seeds=range(N_SEEDS), backend="auto"):
    """Mean over seeds of the expected reward per round."""
    return float(np.mean([run(env_spec, agent, seed=s, backend=backend).finals[
        "expected_reward"] / horizon for s in seeds]))


@pytest.fixture(scope="module")
def e1_rates():
    horizon = 1800
    spec = ("banditlab/LSDLaforgue5-v0", {"horizon": horizon})
    env = make_env(*spec[:1], **spec[1])
    out = {
        "greedy": mean_rate(spec, make_benchmark_policy(env.oracle, "greedy"), horizon),
        "comb": mean_rate(spec, make_agent("CombUCB1Block-v0", block=3), horizon),
        "isi": mean_rate(spec, make_agent("ISICombUCB1-v0", block=3), horizon),
    }
    out["opt"] = env.oracle.exact_finite_horizon(horizon)[-1] / horizon
    return out


def test_e1_isi_beats_greedy_and_vanilla_combucb(e1_rates):
    r = e1_rates
    # Greedy is lured off arm 1's delay-3 spike by arm 2's 0.96 and then earns ~0.15.
    assert r["isi"] > r["greedy"] + 0.08
    assert r["isi"] > r["comb"] + 0.08
    assert r["opt"] > r["isi"]


def test_e2_greedy_trapped_learners_alternate():
    horizon = 1100
    spec = ("banditlab/LSDLaforgue2-v0", {"horizon": horizon})
    env = make_env(spec[0], **spec[1])
    greedy = make_benchmark_policy(env.oracle, "greedy")
    res = run(spec, greedy, seed=0)
    # Trapped on arm 1 at delay 1: exactly 0.06 per round after the first pull.
    assert res.finals["expected_reward"] == pytest.approx(0.06 * horizon, abs=1e-9)
    opt = env.oracle.exact_finite_horizon(horizon)[-1] / horizon
    assert opt == pytest.approx(0.5, abs=1e-3)
    for agent_id in ("ISICombUCB1-v0", "CombUCB1Block-v0"):
        rate = mean_rate(spec, make_agent(agent_id, block=10), horizon)
        assert rate > 0.3, agent_id


@pytest.mark.parametrize("preset", ["concave", "step"])
def test_e3_lp_rounding_reaches_one_minus_one_over_e_of_lp(preset):
    horizon = 2000
    ratios = []
    for inst in range(3):
        env = LSDBandit(preset=preset, random_instance_seed=inst, n_arms=5, tau_max=10,
                        monotone=True, horizon=horizon, exact_state_cap=1)
        lp = env.oracle.lp_bound("recharging").value
        planner = make_benchmark_policy(env.oracle, "lp_rounding")
        rate = mean_rate(env, planner, horizon)
        ratios.append(rate / lp)
        assert rate <= lp + 1e-9  # the LP is an upper bound on every policy
    assert np.mean(ratios) >= 1 - 1 / np.e


def test_e4_lp_ucb_regret_slope_below_one():
    horizon = 6000
    kw = {"preset": "monotone", "random_instance_seed": 1, "n_arms": 3, "tau_max": 4,
          "monotone": True, "horizon": horizon}
    env = LSDBandit(**kw)
    table = env.payoff_table.tolist()
    cps = np.unique(np.geomspace(100, horizon, 12).astype(np.int64))
    gaps = []
    for s in range(N_SEEDS):
        learner = run(env, LSDLPUCB(tau_max=4, bonus_c=0.1), seed=s, checkpoints=cps)
        full = run(env, LSDLPUCB(tau_max=4, bonus_c=0.1, payoff_table=table), seed=s,
                   checkpoints=cps)
        gaps.append(full.curves["expected_reward"] - learner.curves["expected_reward"])
    regret = np.mean(gaps, axis=0)
    tail = learner.t >= horizon // 8
    assert np.all(regret[tail] > 0)
    slope = np.polyfit(np.log(learner.t[tail]), np.log(regret[tail]), 1)[0]
    assert slope < 0.8


def test_ucb_greedy_beats_uniform_on_step_recharging():
    kw = {"preset": "step", "family_params": {"r": [0.9, 0.6, 0.3], "theta": [3, 2, 1]},
          "tau_max": 4, "horizon": 3000}
    env = LSDBandit(**kw)
    ucbg = mean_rate(env, make_agent("LSDUCBGreedy-v0", tau_max=4), 3000, range(5))
    unif = mean_rate(env, make_agent("Uniform-v0"), 3000, range(5), backend="python")
    assert ucbg > unif + 0.05


@pytest.mark.parametrize(
    ("agent", "param"),
    [
        (make_agent("LSDUCBGreedy-v0", bonus_c=-1.0), "bonus_c"),
        (make_agent("LSDUCBGreedy-v0", tau_max=0), "tau_max"),
        (make_agent("LSDUCBGreedy-v0", obs_encoding="x"), "obs_encoding"),
        (make_agent("ISICombUCB1-v0", block=0), "block"),
        (make_agent("CombUCB1Block-v0", block=12), "block"),
        (LSDLPUCB(epoch_growth=1.0), "epoch_growth"),
        (LSDLPUCB(first_epoch=0), "first_epoch"),
        (LSDLPUCB(conflict_rule="x"), "conflict_rule"),
        (LSDLPUCB(n_candidates=0), "n_candidates"),
    ],
)
def test_bad_agent_hyperparameters(agent, param):
    env = make_env("banditlab/LSDBandit-v0")
    with pytest.raises(BanditlabError) as err:
        agent.reset(env.action_space, env.observation_space, seed=0)
    assert str(err.value).startswith(param) and "\n" not in str(err.value)
