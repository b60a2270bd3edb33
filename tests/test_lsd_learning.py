"""Learning and planning claims of the LSD family at reduced size.

The experiments' claims are data (``[[claims]]`` of ``banditlab/benchmarks/lsd_*.toml``),
asserted here with :func:`banditlab.testing.claims.assert_claims`:

* LSD-E1 (Laforgue et al.): ISI-CombUCB1 above Oracle Greedy and vanilla CombUCB1.
* LSD-E2: Oracle Greedy trapped at 0.06 per round; ISI-CombUCB1 above it; both
  LP-rounding planners at least ``(1 - 1/e)`` of their LP value.
* LSD-E3: both LP-rounding planners at least ``(1 - 1/e)`` of the LSD LP value on every
  instance of the reduced scale.
* LSD-E5: several pulls per round: LP rounding above ``(1 - 1/e)`` of the LP, the exact
  optimum above the planners.

Learner-level properties on instances of their own (not experiment claims) stay
hand-written below: LP-UCB's regret slope against its full-information counterpart and
UCB-greedy against uniform play.
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
from banditlab.registry import make_agent, make_env
from banditlab.testing.claims import assert_claims

N_SEEDS = 4


def mean_rate(env_spec, agent, horizon, seeds=range(N_SEEDS), backend="auto"):
    """Mean over seeds of the expected reward per round."""
    return float(np.mean([run(env_spec, agent, seed=s, backend=backend).finals[
        "expected_reward"] / horizon for s in seeds]))


@pytest.mark.parametrize("name", ["lsd_e1", "lsd_e2", "lsd_e3", "lsd_e5_multi_pull"])
def test_experiment_claims_hold_at_reduced_scale(name):
    results = assert_claims(name, scale="reduced")
    assert any(r.verdict == "pass" for r in results)


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
        (make_agent("ISICombUCB1-v1", block=0), "block"),
        (make_agent("CombUCB1Block-v1", block=12, planner="exhaustive"), "block"),
        (make_agent("CombUCB1Block-v1", ucb_refresh="x"), "ucb_refresh"),
        (LSDLPUCB(epoch_growth=1.0), "epoch_growth"),
        (LSDLPUCB(first_epoch=0), "first_epoch"),
        (LSDLPUCB(conflict_rule="x"), "conflict_rule"),
        (LSDLPUCB(n_candidates=0), "n_candidates"),
    ],
)
def test_bad_agent_hyperparameters(agent, param):
    env = make_env("banditlab/LSDBandit-v1")
    with pytest.raises(BanditlabError) as err:
        agent.reset(env.action_space, env.observation_space, seed=0)
    assert str(err.value).startswith(param) and "\n" not in str(err.value)


@pytest.mark.parametrize("agent_id", ["CombUCB1Block-v1", "ISICombUCB1-v1", "LSDBlockPlanner-v0"])
def test_one_pull_agents_refuse_several_pulls_per_round(agent_id):
    env = make_env("banditlab/LSDMultiPull-v0", horizon=20)
    kw = {"payoff_table": env.unwrapped.payoff_table.tolist()} if "Planner" in agent_id else {}
    with pytest.raises(BanditlabError) as err:
        make_agent(agent_id, **kw).reset(env.action_space, env.observation_space, seed=0)
    msg = str(err.value)
    assert msg.startswith("action_space") and "m_pulls = 2" in msg and "\n" not in msg
