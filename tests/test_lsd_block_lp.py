"""Laforgue et al.'s block LP and its greedy rounding, checked against brute-force
enumeration of all block sequences and HiGHS; the block agents' index rule against an
independent replay of the authors' ``update_UCBs``; bad input. (Fused/Python parity of
the block agents is in the parity suite, ``tests/test_harness.py``.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import banditlab.envs  # noqa: F401
from banditlab.agents.lsd.combucb import CombUCB1Block, ISICombUCB1
from banditlab.agents.lsd.planners import LSDBlockPlanner
from banditlab.core import BanditlabError
from banditlab.envs.lsd.blocks import block_model_values
from banditlab.envs.lsd.env import LSDBandit
from banditlab.envs.lsd.lp import block_lp, block_lp_round


def brute_value(seq, first_val, later_val):
    """Block objective, written independently of the library (last pull per arm)."""
    total, prev = 0.0, [-1] * first_val.shape[0]
    for s, a in enumerate(seq):
        total += first_val[a, s] if prev[a] < 0 else later_val[a, s - prev[a] - 1]
        prev[a] = s
    return total


def brute_best(first_val, later_val):
    k, length = first_val.shape
    return max(brute_value(q, first_val, later_val)
               for q in itertools.product(range(k), repeat=length))


def random_blocks(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k, length = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        yield rng.random((k, length)), rng.random((k, length))


def test_lp_upper_bounds_and_rounding_lower_bounds_the_exhaustive_optimum():
    n_gap = n_integral = 0
    for fv, lv in random_blocks(60, seed=3):
        best = brute_best(fv, lv)
        sol = block_lp(fv, lv)
        assert sol.value >= best - 1e-9
        seq = block_lp_round(fv, lv)
        val = brute_value(seq, fv, lv)
        assert val <= best + 1e-9
        # one pull per slot in the LP solution
        np.testing.assert_allclose(sol.x.sum(0) + sol.y.sum((0, 1)), 1.0, atol=1e-7)
        z = np.concatenate([sol.x.ravel(), sol.y.ravel()])
        if np.all(np.minimum(z, 1 - z) < 1e-7):
            n_integral += 1
            assert sol.value == pytest.approx(best, abs=1e-9)
            assert val == pytest.approx(best, abs=1e-9)  # greedy recovers integral optima
        n_gap += val < best - 1e-9
    # most small random blocks have integral LPs (measured 51/60 here; 349/400 on seed 11)
    assert n_integral >= 30
    # the greedy rounding rarely loses (measured 0/60 here; 1/400 on seed 11)
    assert n_gap <= 6


def test_lp_integer_points_are_sequences():
    """With first/later values that single out one sequence, the LP returns exactly it."""
    rng = np.random.default_rng(0)
    k, length = 3, 5
    target = rng.integers(0, k, size=length)
    fv = np.zeros((k, length))
    lv = np.zeros((k, length))
    prev = {}
    for s, a in enumerate(target):
        if a in prev:
            lv[a, s - prev[a] - 1] = 1.0
        else:
            fv[a, s] = 1.0
        prev[a] = s
    best = brute_best(fv, lv)
    assert block_lp(fv, lv).value == pytest.approx(best, abs=1e-9)
    assert brute_value(block_lp_round(fv, lv), fv, lv) == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_model_values_equal_simulation_on_delay_only_tables(seed):
    """On a recharging table the block objective equals the simulated block reward."""
    rng = np.random.default_rng(seed)
    k, tau, length = 3, 4, 4
    delay = np.sort(rng.random((k, tau)), axis=1)
    env = LSDBandit(preset="recharging", delay_payoffs=delay.tolist(), horizon=50)
    table = env.payoff_table
    streak = np.array([2, 0, 0])
    idle = np.array([0, 1, 3])
    fv, lv = block_model_values(table, streak, idle, length)
    for seq in itertools.product(range(k), repeat=length):
        s_, i_ = streak.copy(), idle.copy()
        total = 0.0
        for a in seq:
            total += table[a, 0, min(s_[a], tau) - 1] if s_[a] > 0 \
                else table[a, 1, min(max(i_[a], 1), tau) - 1]
            for j in range(k):
                if j == a:
                    s_[j], i_[j] = min(s_[j] + 1, tau), 0
                else:
                    s_[j], i_[j] = 0, min(i_[j] + 1, tau)
        assert brute_value(seq, fv, lv) == pytest.approx(total, abs=1e-12)


def test_true_table_block_lp_brackets_the_exact_best_block():
    """Per block, from random states of a recharging instance: LP value >= the exact best
    block (exhaustive simulation) >= the rounded block's value."""
    rng = np.random.default_rng(5)
    env = LSDBandit(preset="recharging", delay_payoffs=[[0.2, 0.5, 0.8], [0.4, 0.45, 0.5],
                                                       [0.1, 0.6, 0.9]], horizon=48)
    table = env.payoff_table
    k, tau, length = 3, 3, 4
    for _ in range(8):
        played = int(rng.integers(k))
        streak = np.zeros(k, np.int64)
        streak[played] = int(rng.integers(1, tau + 1))
        idle = rng.integers(1, tau + 1, size=k).astype(np.int64)
        idle[played] = 0
        fv, lv = block_model_values(table, streak, idle, length)
        best = brute_best(fv, lv)
        assert block_lp(fv, lv).value >= best - 1e-9
        assert brute_value(block_lp_round(fv, lv), fv, lv) <= best + 1e-9


@pytest.mark.parametrize("cls", [ISICombUCB1, CombUCB1Block, LSDBlockPlanner])
def test_bad_planner_one_line_error(cls):
    from banditlab.registry import make_env

    env = make_env("banditlab/LSDLaforgue5-v1", horizon=10)
    kw = {"payoff_table": env.unwrapped.payoff_table.tolist()} if cls is LSDBlockPlanner else {}
    with pytest.raises(BanditlabError, match="planner") as exc:
        cls(planner="cvxopt", **kw).reset(env.action_space, env.observation_space, seed=0)
    assert "\n" not in str(exc.value)


def test_compiled_block_lp_matches_highs():
    """The agents' compiled simplex gives HiGHS's LP value, also on degenerate blocks."""
    from banditlab.envs.lsd.lp import block_lp_nb

    rng = np.random.default_rng(8)
    for it in range(120):
        k, length = int(rng.integers(2, 6)), int(rng.integers(2, 8))
        fv, lv = rng.random((k, length)), rng.random((k, length))
        if it % 3 == 0:  # many ties: degenerate vertices
            fv, lv = np.round(fv * 2) / 2, np.round(lv * 2) / 2
        value, mass = block_lp_nb(fv, lv)
        ref = block_lp(fv, lv)
        assert value == pytest.approx(ref.value, abs=1e-7)
        np.testing.assert_allclose(mass.sum(axis=0), 1.0, atol=1e-7)  # one pull per slot
        assert mass.min() >= -1e-9


@pytest.mark.parametrize("impl", ["highs_shortcut", "compiled"])
def test_rounding_keeps_an_argmax_of_the_authors_criterion(impl):
    """At every position the kept arm maximises (prefix value + LP value of the rest) over
    arms, the criterion of the authors' ``oracle``, recomputed with HiGHS for every arm."""
    from banditlab.envs.lsd.lp import _suffix_first_values, block_lp_round_nb

    n_shortcut = 0
    for fv, lv in random_blocks(50, seed=21):
        k, length = fv.shape
        seq = (block_lp_round(fv, lv, 0.5) if impl == "highs_shortcut"
               else block_lp_round_nb(fv, lv, 0.5))
        for p in range(length):
            scores = []
            for a in range(k):
                cand = [int(x) for x in seq[:p]] + [a]
                val = brute_value(cand, fv, lv)
                if p < length - 1:
                    val += block_lp(_suffix_first_values(cand, fv, lv),
                                    lv[:, : length - p - 1]).value
                scores.append(val)
            assert scores[int(seq[p])] >= max(scores) - 1e-7, (fv, lv, seq, p)
        n_shortcut += block_lp(fv, lv).x.max() > 1 - 1e-9
    assert n_shortcut > 0


def _authors_indices(steps, k, length, bonus_c=1.5):
    """The authors' ``update_UCBs`` rule, replayed from ``(delays, action, reward, learn)``.

    ``delays``: every arm's delay before the pull (capped at ``length``); ``learn``: whether
    the pull is learned from. Returns the index matrix after each step.
    """
    unvisited = length * np.sqrt(1.5 * np.log(k * length))
    counts = np.zeros((k, length))
    means = np.zeros((k, length))
    ucb = np.full((k, length), unvisited)
    out = []
    for t, (delays, action, reward, learn) in enumerate(steps, start=1):
        if learn:
            col = min(delays[action], length) - 1
            counts[action, col] += 1
            means[action, col] += (reward - means[action, col]) / counts[action, col]
            for i in range(k):
                c = min(delays[i], length) - 1
                if counts[i, c] > 0:
                    ucb[i, c] = means[i, c] + np.sqrt(bonus_c * np.log(t) / counts[i, c])
        out.append(ucb.copy())
    return out


@pytest.mark.parametrize("cls", [CombUCB1Block, ISICombUCB1])
def test_indices_follow_the_authors_update_rule(cls):
    """After every pull the agent's index matrix equals an independent replay of the
    authors' rule (only each arm's entry at its current delay is refreshed)."""
    from banditlab.registry import make_env

    env = make_env("banditlab/LSDLaforgue5-v1", horizon=300)
    agent = cls(block=3)
    obs, _ = env.reset(seed=4)
    agent.reset(env.action_space, env.observation_space, seed=9)
    length = agent._length()
    steps, got = [], []
    for t in range(300):
        a = agent.act(obs)
        nxt, r, _, _, _ = env.step(a)
        pos = t % length
        first = a not in steps_block(steps, pos, t)
        steps.append((obs.astype(int).tolist(), a, r, not (cls is ISICombUCB1 and first)))
        agent.update(obs, a, r, nxt, False)
        got.append(agent.state_.ucb.copy())
        obs = nxt
    ref = _authors_indices(steps, 5, length)
    for t, (g, e) in enumerate(zip(got, ref, strict=True)):
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-12, err_msg=f"step {t + 1}")
    # the rule is not "recompute every entry": some visited entries keep an old bonus
    counts = agent.state_.counts
    stale = [(i, j) for i in range(5) for j in range(length) if counts[i, j] > 0
             and abs(got[-1][i, j] - (agent.state_.sums[i, j] / counts[i, j]
                                       + np.sqrt(1.5 * np.log(300) / counts[i, j]))) > 1e-9]
    assert stale


def steps_block(steps, pos, t):
    """Arms already pulled in the current block (positions ``t - pos .. t - 1``)."""
    return {s[1] for s in steps[t - pos: t]}


def test_per_block_refresh_variant_is_the_v0_rule():
    """``ucb_refresh="per_block"`` recomputes every visited index at the block start."""
    from banditlab.registry import make_env

    env = make_env("banditlab/LSDLaforgue5-v1", horizon=120)
    agent = ISICombUCB1(block=3, ucb_refresh="per_block", planner="exhaustive")
    obs, _ = env.reset(seed=1)
    agent.reset(env.action_space, env.observation_space, seed=2)
    for t in range(120):
        a = agent.act(obs)
        if t % 4 == 0:  # just planned: every visited entry is fresh
            n = agent.state_.counts
            fresh = agent.state_.sums / np.maximum(n, 1) + np.sqrt(1.5 * np.log(t + 1)
                                                                   / np.maximum(n, 1))
            np.testing.assert_allclose(agent.state_.ucb[n > 0], fresh[n > 0], atol=1e-12)
        nxt, r, _, _, _ = env.step(a)
        agent.update(obs, a, r, nxt, False)
        obs = nxt
    assert agent.label() == "ISI-CombUCB1 [exhaustive block planner, per-block UCB refresh]"
