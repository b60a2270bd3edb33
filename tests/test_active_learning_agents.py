"""Baselines of the active-identification family: 20 Questions, best arm, thresholds."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from banditlab.agents.active.baselines import (
    SGBS,
    InfoGainGreedy,
    LUCBForcedStop,
    RoundRobinMLE,
    SequentialHalving,
    StaticDesign,
    TrackAndStopBudget,
    thresholds_scores,
)
from banditlab.core import BanditlabError
from banditlab.envs.active.env import ActiveIdentification
from banditlab.harness import run
from banditlab.registry import make_agent, make_benchmark_policy

ENV_ID = "banditlab/ActiveIdentification-v0"


@pytest.fixture(scope="module")
def q20_table():
    env = ActiveIdentification(provider="q20")
    return env.known_constants["hypothesis_table"]


def _correct(env_kwargs, agent, seeds):
    return sum(run((ENV_ID, env_kwargs), agent, seed=s).finals["correct"] for s in seeds)


def test_sgbs_margin0_is_nowaks_rule_and_auto_beta(q20_table):
    """margin = 0: the query is argmin_x |Σ_h w(h) sign(2p − 1)| with w ∝ (1−β)^agree β^dis."""
    env = ActiveIdentification(provider="q20")
    beta = 0.2
    ag = SGBS(beta=beta, margin=0.0, problem="table", hypothesis_table=q20_table)
    ag.reset(env.action_space, env.observation_space, seed=0)
    rng = np.random.default_rng(5)
    sign = np.where(q20_table >= 0.5, 1, -1)
    for _ in range(5):
        counts = np.zeros(500)
        counts[rng.choice(500, 6, replace=False)] = rng.integers(1, 3, 6)
        sums = np.minimum(counts, rng.integers(0, 3, 500)).astype(float)
        logw = np.zeros(100)
        for x in np.flatnonzero(counts):  # brute force over individual answers
            for k in range(int(counts[x])):
                y = 1 if k < sums[x] else -1
                logw += np.where(sign[:, x] == y, np.log(1 - beta), np.log(beta))
        w = np.exp(logw - logw.max())
        split = np.abs((w / w.sum()) @ sign)
        best = np.flatnonzero(split <= split.min() + 1e-12)
        assert ag._query(counts, sums, int(counts.sum())) in best
    noise = np.minimum(q20_table, 1 - q20_table)
    auto = SGBS(problem="table", hypothesis_table=q20_table)  # Nowak's SGBS: no abstention
    auto.reset(env.action_space, env.observation_space, seed=0)
    assert auto.margin_ == 0 and not auto.abst_.any()
    assert auto.beta_ == pytest.approx(noise.mean()) and 0.1 < auto.beta_ < 0.2
    abstaining = SGBS(margin=0.3, problem="table", hypothesis_table=q20_table)
    abstaining.reset(env.action_space, env.observation_space, seed=0)
    conf = np.abs(q20_table - 0.5) >= 0.3
    assert abstaining.beta_ == pytest.approx(noise[conf].mean()) and 0.01 < abstaining.beta_ < 0.1
    np.testing.assert_array_equal(abstaining.abst_, ~conf)


def test_round_robin_error_matches_independent_monte_carlo():
    # fixed BAI instance; uniform allocation with T = 20 gives 4 pulls per arm
    theta = np.array([0.8, 0.4, 0.0, 0.0, -0.2])
    n_ep = 400
    res = run((ENV_ID, {"budget": 20, "n_episodes": n_ep, "instance_mode": "sequence",
                        "instances": [theta]}), "RoundRobinMLE-v0", seed=3)
    err = 1 - res.finals["correct"] / n_ep
    rng = np.random.default_rng(0)
    means = theta + rng.standard_normal((200_000, 5)) / 2.0  # mean of 4 N(., 1) draws
    p = np.mean(np.argmax(means, axis=1) != 0)
    assert abs(err - p) < 4 * np.sqrt(p * (1 - p) / n_ep)
    assert res.finals["regret/fixed_budget"] == pytest.approx(n_ep - res.finals["correct"])


@pytest.mark.parametrize("agent_id", ["SequentialHalving-v0", "LUCBForcedStop-v0",
                                      "TrackAndStopBudget-v0", "RoundRobinMLE-v0"])
def test_bai_baselines_identify_an_easy_best_arm(agent_id):
    theta = np.array([2.0, 0.0, 0.0, 0.0, 0.0])
    res = run((ENV_ID, {"budget": 20, "n_episodes": 60, "instance_mode": "sequence",
                        "instances": [theta]}), agent_id, seed=1)
    assert res.finals["correct"] >= 57


def test_static_design_oracle_agent_uses_the_true_allocation():
    env = ActiveIdentification(budget=20, n_episodes=3)
    policy = env.oracle.benchmark_policies()["static_design"]
    assert policy.agent_id == "oracle/StaticDesign-v0" and policy.kwargs["oracle"] is env.oracle
    agent = make_benchmark_policy(env.oracle, "static_design")
    assert agent.get_tags()["oracle"] and agent.get_tags()["needs_oracle"]
    obs, _ = env.reset(seed=0)
    agent.reset(env.action_space, env.observation_space, seed=0)
    agent.act(obs)
    np.testing.assert_allclose(agent.lam_, env.provider.allocation(env.oracle.theta))
    res = run(ActiveIdentification(budget=20, n_episodes=5), "oracle:static_design", seed=0)
    assert 0 <= res.finals["correct"] <= 5


def test_sequential_halving_spends_the_budget_on_halving_sets():
    env = ActiveIdentification(budget=24, provider_kwargs={"n": 8})
    agent = SequentialHalving(budget=24)
    obs, _ = env.reset(seed=2)
    agent.reset(env.action_space, env.observation_space, seed=0)
    queries = []
    for _ in range(24):
        a = agent.act(obs)
        queries.append(a)
        obs, *_ = env.step(a)
    # Karnin et al.: 3 rounds, floor(T / (|S_r| * 3)) pulls per survivor: 8x1, 4x2, 2x4
    r1, r2, r3 = queries[:8], queries[8:16], queries[16:]
    assert sorted(r1) == list(range(8))
    assert len(set(r2)) == 4 and all(r2.count(a) == 2 for a in set(r2))
    assert len(set(r3)) == 2 and set(r3) <= set(r2)
    assert agent.act(obs) - 8 in set(r3)


def test_thresholds_scores_against_brute_force():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, 7).astype(float)
    ones = np.floor(counts * rng.random(7))
    s = thresholds_scores(counts, ones)
    for k in range(8):
        pred = (np.arange(7) >= k).astype(float)
        agree = np.sum(np.where(pred == 1, ones, counts - ones))
        assert s[k] == pytest.approx(2 * agree - counts.sum())


@pytest.mark.parametrize("agent_id,env_kwargs", [
    ("SGBS-v1", {"provider": "thresholds"}),
    ("InfoGainGreedy-v0", {"provider": "thresholds"}),
    ("LUCBForcedStop-v0", {}),
    ("TrackAndStopBudget-v0", {}),
])
def test_clone_determinism_and_pickle_mid_run(agent_id, env_kwargs):
    agent = make_agent(agent_id)
    clone = type(agent)(**agent.get_params())
    assert clone.get_params().keys() == agent.get_params().keys()

    def play(ag, env, obs, steps):
        acts = []
        for _ in range(steps):
            a = ag.act(obs)
            assert env.action_mask()[a] == 1
            acts.append(a)
            obs, _, term, _, _ = env.step(a)
            if term:
                obs, _ = env.reset()
        return acts, obs

    env = ActiveIdentification(**env_kwargs)
    obs, _ = env.reset(seed=0)
    agent.reset(env.action_space, env.observation_space, seed=5)
    _, obs = play(agent, env, obs, 7)
    a2, e2 = pickle.loads(pickle.dumps((agent, env)))
    rest1, _ = play(agent, env, obs, 30)
    rest2, _ = play(a2, e2, obs.copy(), 30)
    assert rest1 == rest2


def test_bad_hyperparameters():
    env = ActiveIdentification(provider="thresholds")
    bai = ActiveIdentification()
    cases = [
        (SGBS(beta=0.7), env, "beta"),
        (SGBS(margin=0.5), env, "margin"),
        (SGBS(problem="linear"), bai, "problem"),
        (InfoGainGreedy(prior="weird"), env, "prior"),
        (InfoGainGreedy(prior="popularity"), env, "prior_weights"),
        (LUCBForcedStop(delta=2.0), bai, "delta"),
        (TrackAndStopBudget(sigma=-1.0), bai, "sigma"),
        (RoundRobinMLE(budget=0), bai, "budget"),
        (RoundRobinMLE(problem="table"), bai, "hypothesis_table"),
        (RoundRobinMLE(problem="table", hypothesis_table=np.full((5, 5), 1.5)), bai,
         r"\[0, 1\]"),
        (StaticDesign(allocation=[0.5, 0.5]), bai, "allocation"),
    ]
    for agent, e, match in cases:
        with pytest.raises(BanditlabError, match=match):
            agent.reset(e.action_space, e.observation_space, seed=0)
    hist = ActiveIdentification(obs_mode="history")
    with pytest.raises(BanditlabError, match="observation_space"):
        RoundRobinMLE().reset(hist.action_space, hist.observation_space, seed=0)


def test_sgbs_best_arm_reduction_updates_weights_answer_by_answer():
    """SGBS on best arm ([I] reduction): binarised answers update the log-weights exactly."""
    env = ActiveIdentification(provider_kwargs={"n": 3}, budget=4)
    agent = SGBS(problem="argmax", budget=4, beta=0.2)
    agent.reset(env.action_space, env.observation_space, seed=0)
    lo, hi = np.log(0.2), np.log(0.8)

    def obs(counts, means, t):
        return np.concatenate([np.asarray(counts) / 4, means, [t / 4]])

    x0 = agent.act(obs([0, 0, 0], [0, 0, 0], 0))
    c, m = np.zeros(3), np.zeros(3)
    c[x0], m[x0] = 1, 0.7
    x1 = agent.act(obs(c, m, 1))
    np.testing.assert_array_equal(agent.bai_logw_, 0.0)  # first answer: no reference yet
    assert x1 in range(3)
    c[x1] += 1
    m[x1] = 0.2 if x1 != x0 else (0.7 + 0.2) / 2  # answer 0.2 < reference 0.7: "low"
    x2 = agent.act(obs(c, m, 2))
    expected = np.where(np.arange(3) == x1, lo, hi)  # "low at x1" contradicts only h = x1
    np.testing.assert_allclose(agent.bai_logw_, expected)
    # weights 1/9 for h = x1 and 4/9 for the others: min(w, 1 − w) is largest at the others
    assert x2 != x1


def test_sgbs_best_arm_runs_through_the_env():
    res = run((ENV_ID, {"n_episodes": 30}), ("SGBS-v1", {"problem": "argmax"}), seed=0)
    assert 0 <= res.finals["loss"] <= 30


def test_labels_name_the_published_algorithm_or_the_deviation():
    from banditlab.agents.active.ltal import LTALPolicy
    from banditlab.agents.active.ltal_questions import LTALQuestionPolicy

    cases = [
        (RoundRobinMLE(), "Uniform + MLE"),
        (StaticDesign(), "Oracle Static Design"),
        (SGBS(), "SGBS"),
        (SGBS(problem="table", margin=0.3), "SGBS [abstaining hypotheses]"),
        (SGBS(problem="argmax"), "SGBS [best-arm reduction]"),
        (InfoGainGreedy(), "Info-Gain Greedy"),
        (InfoGainGreedy(prior="popularity"), "Info-Gain Greedy [popularity prior]"),
        (SequentialHalving(), "Sequential Halving [cumulative means]"),
        (LUCBForcedStop(), "LUCB [stopped at the budget]"),
        (TrackAndStopBudget(), "Track-and-Stop [stopped at the budget]"),
        (LTALPolicy(), "LTAL [reconstruction]"),
        (LTALQuestionPolicy(), "LTAL [question-equivariant reconstruction]"),
    ]
    for agent, label in cases:
        assert agent.label() == label
        if type(agent).deviation is not None:
            assert "Deviations:" in type(agent).__doc__
    with pytest.raises(BanditlabError, match="SGBS-v1"):
        make_agent("SGBS-v0")  # the default changed (no abstention): a new version
