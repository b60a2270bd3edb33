"""Exact optimum (BFS + RVI + backward induction) and LP relaxations of LSD bandits,
checked against brute-force enumeration, Karp's maximum mean cycle and SciPy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize

import banditlab.envs  # noqa: F401
from banditlab.envs.lsd.env import LSDBandit
from banditlab.envs.lsd.exact import build_graph, exact_average_reward, exact_finite_horizon
from banditlab.envs.lsd.lp import (
    delay_projection,
    isotonic_nondecreasing,
    isotonic_nonincreasing,
    lsd_lp,
    recharging_lp,
)
from banditlab.harness import run
from banditlab.registry import make_benchmark_policy


def ref_init(k, tau, init_state):
    return tuple(("off", tau) if init_state == "idle_max" else ("on", 1) for _ in range(k))


def ref_step(table, state, a):
    """Plain-Python LSD transition on uncompressed (kind, level) states."""
    tau = table.shape[2]
    kind, lev = state[a]
    r = table[a, 0 if kind == "on" else 1, lev - 1]
    new = []
    for i, (kd, lv) in enumerate(state):
        if i == a:
            new.append(("on", min(lv + 1, tau)) if kd == "on" else ("on", 1))
        else:
            new.append(("off", min(lv + 1, tau)) if kd == "off" else ("off", 1))
    return r, tuple(new)


def brute_force_opt(table, init_state, horizon):
    """max over all k**t action sequences of the total expected reward, for t = 0..horizon."""
    k, _, tau = table.shape
    out = [0.0]
    for t in range(1, horizon + 1):
        best = -np.inf
        for seq in itertools.product(range(k), repeat=t):
            s = ref_init(k, tau, init_state)
            tot = 0.0
            for a in seq:
                r, s = ref_step(table, s, a)
                tot += r
            best = max(best, tot)
        out.append(best)
    return np.array(out)


def karp_max_mean_cycle(table, init_state):
    """Karp's algorithm on the uncompressed reachable graph built independently."""
    k, _, tau = table.shape
    s0 = ref_init(k, tau, init_state)
    index, edges, queue = {s0: 0}, [], [s0]
    while queue:
        s = queue.pop()
        for a in range(k):
            r, s2 = ref_step(table, s, a)
            if s2 not in index:
                index[s2] = len(index)
                queue.append(s2)
            edges.append((index[s], index[s2], r))
    n = len(index)
    d = np.full((n + 1, n), -np.inf)
    d[0, :] = 0.0  # a virtual source reaching every vertex at weight 0
    src = np.array([e[0] for e in edges])
    dst = np.array([e[1] for e in edges])
    w = np.array([e[2] for e in edges])
    for j in range(1, n + 1):
        cand = d[j - 1, src] + w
        np.maximum.at(d[j], dst, cand)
    best = -np.inf
    for v in range(n):
        if d[n, v] == -np.inf:
            continue
        vals = [(d[n, v] - d[j, v]) / (n - j) for j in range(n) if d[j, v] > -np.inf]
        best = max(best, min(vals))
    return best


TINY = [
    (2, 2, 7, "idle_max"),
    (2, 3, 7, "all_delay_one"),
    (3, 2, 6, "idle_max"),
    (3, 3, 6, "all_delay_one"),
]


@pytest.mark.parametrize(("k", "tau", "horizon", "init_state"), TINY)
@pytest.mark.parametrize("seed", [0, 1])
def test_finite_horizon_matches_brute_force(k, tau, horizon, init_state, seed):
    rng = np.random.default_rng(100 * seed + 10 * k + tau)
    table = np.round(rng.uniform(0, 1, (k, 2, tau)), 2)
    if seed == 1:  # coarse values: many ties and constant rows exercise the compression
        table = np.round(table * 2) / 2
    graph = build_graph(table, init_state)
    got = exact_finite_horizon(graph, horizon)
    np.testing.assert_allclose(got, brute_force_opt(table, init_state, horizon), atol=1e-12)


@pytest.mark.parametrize("method", ["rvi", "howard"])
@pytest.mark.parametrize("seed", range(4))
def test_gain_matches_karp_and_brackets_opt(seed, method):
    rng = np.random.default_rng(seed)
    k, tau = (3, 3) if seed % 2 == 0 else (2, 4)
    table = rng.uniform(0, 1, (k, 2, tau))
    init_state = "idle_max" if seed < 2 else "all_delay_one"
    graph = build_graph(table, init_state)
    g, h, policy = exact_average_reward(graph, method=method)
    assert g == pytest.approx(karp_max_mean_cycle(table, init_state), abs=1e-7)
    horizon = 300
    opt = exact_finite_horizon(graph, horizon)
    # Deterministic MDP with h(s0) = 0: T g - max h <= OPT(T) <= T g - min h.
    assert horizon * g - h.max() - 1e-6 <= opt[-1] <= horizon * g - h.min() + 1e-6
    # The stationary greedy policy reaches a cycle of mean g*.
    s, seen, rewards = 0, {}, []
    for t in range(5 * graph.n_states + 5):
        if s in seen:
            cyc = rewards[seen[s]:]
            assert np.mean(cyc) == pytest.approx(g, abs=1e-7)
            break
        seen[s] = t
        rewards.append(graph.rew[s, policy[s]])
        s = graph.nxt[s, policy[s]]
    else:
        pytest.fail("policy never closed a cycle")


@pytest.mark.parametrize("preset", ["table", "monotone", "seasonal", "concave", "step"])
@pytest.mark.parametrize("seed", range(3))
def test_lp_relaxations_upper_bound_exact_gain(preset, seed):
    if preset == "table":
        kw = {"payoff_table": np.random.default_rng(seed).uniform(0, 1, (3, 2, 4))}
    else:
        kw = {"preset": preset, "random_instance_seed": seed, "n_arms": 3, "tau_max": 5}
    env = LSDBandit(**kw, horizon=10)
    g = env.oracle.exact_average_reward()[0]
    assert env.oracle.lp_bound("lsd").value >= g - 1e-7
    if preset in ("concave", "step"):  # delay-only tables: the recharging LP is a bound too
        assert env.oracle.lp_bound("recharging").value >= g - 1e-7


def test_recharging_lp_against_dense_formulation():
    """Solve the same LP through scipy's generic interface built from scratch."""
    rng = np.random.default_rng(7)
    p = np.sort(rng.uniform(0, 1, (4, 6)), axis=1)
    sol = recharging_lp(p)
    k, d = p.shape
    c, rows = [], []
    for i in range(k):
        for tau in range(1, d + 1):
            c.append(-p[i, tau - 1] / tau)
    a = np.zeros((k + 1, k * d))
    for i in range(k):
        for tau in range(1, d + 1):
            a[0, i * d + tau - 1] = 1.0 / tau
            a[1 + i, i * d + tau - 1] = 1.0
    del rows
    ref = scipy.optimize.linprog(c, A_ub=a, b_ub=np.ones(k + 1), method="highs-ipm")
    assert sol.value == pytest.approx(-ref.fun, abs=1e-7)
    assert delay_projection(np.zeros((2, 2, 3))).shape == (2, 4)


def test_lsd_lp_is_tight_when_one_arm_dominates():
    # One arm paying 0.7 in every state: the best policy plays it forever, g* = LP = 0.7.
    table = np.zeros((2, 2, 3))
    table[0] = 0.7
    table[1] = 0.1
    assert lsd_lp(table).value == pytest.approx(0.7, abs=1e-9)
    graph = build_graph(table, "idle_max")
    assert exact_average_reward(graph)[0] == pytest.approx(0.7, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_isotonic_projections_match_scipy(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=12)
    w = rng.uniform(0.5, 3, 12)
    ref_inc = scipy.optimize.isotonic_regression(y, weights=w, increasing=True).x
    ref_dec = scipy.optimize.isotonic_regression(y, weights=w, increasing=False).x
    np.testing.assert_allclose(isotonic_nondecreasing(y, w), ref_inc, atol=1e-10)
    np.testing.assert_allclose(isotonic_nonincreasing(y, w), ref_dec, atol=1e-10)


def test_optimal_planner_regret_within_bias_span():
    env_kw = {"preset": "monotone", "random_instance_seed": 2, "n_arms": 3, "tau_max": 4,
              "horizon": 600, "alpha": 1.0}
    env = LSDBandit(**env_kw)
    _, h, _ = env.oracle.exact_average_reward()
    res = run(env, make_benchmark_policy(env.oracle, "optimal"), seed=0, backend="python")
    regret = res.curves["pseudo_regret/alpha/opt"]
    assert np.all(regret >= -1e-7) and np.all(regret <= h.max() - h.min() + 1e-7)


def test_state_cap_refuses_large_instances():
    from banditlab.core import BanditlabError

    table = np.random.default_rng(0).uniform(0, 1, (5, 2, 10))
    with pytest.raises(BanditlabError, match="^max_states"):
        build_graph(table, max_states=1000)
    env = LSDBandit(payoff_table=table, horizon=10, exact_state_cap=1000)
    assert "alpha/opt" not in env.oracle.regret_kinds
    assert "optimal" not in env.oracle.planner_names()
    assert env.kernel.comparator_kinds == ("alpha/lp",)


def test_howard_fallback_agrees_with_rvi_on_a_slow_step_instance():
    # Step payoffs create many near-tied cycles: RVI needs ~10^4 sweeps here.
    env = LSDBandit(preset="step", random_instance_seed=1, n_arms=5, tau_max=20, horizon=10,
                    exact_state_cap=1)
    graph = build_graph(env.payoff_table)
    g_rvi = exact_average_reward(graph, method="rvi", max_iter=100_000)[0]
    g_how, h, policy = exact_average_reward(graph, method="howard")
    assert g_how == pytest.approx(g_rvi, abs=1e-7)
    # Howard's bias solves the optimality equation: g + h(s) = max_a r(s, a) + h(s').
    q = graph.rew + h[graph.nxt]
    np.testing.assert_allclose(q.max(axis=1), g_how + h, atol=1e-8)


def _plateau(row):
    """Smallest level c with row[c - 1:] constant (independent of the library)."""
    c = len(row)
    while c > 1 and np.all(row[c - 2:] == row[-1]):
        c -= 1
    return c


@pytest.mark.parametrize("case", [("e2",), ("monotone", 4, 6, 3), ("step", 8, 10, 0),
                                  ("concave", 8, 10, 0)], ids=lambda c: c[0])
@pytest.mark.parametrize("relaxation", ["lsd", "recharging"])
def test_rounding_safe_fills_never_change_a_scheduled_payoff(case, relaxation):
    """Every candidate pull earns what it would earn if each safe fill had pulled nothing.

    Independent replay: the schedule is read off the agent; candidates and the safety of
    each fill are recomputed here; a plain-Python model advances the arms on candidate
    pulls and on unsafe fills (the one-pull fallback, a real pull in both worlds) and
    leaves safe-fill rounds empty.
    """
    from banditlab.registry import make_agent, make_env

    horizon = 400
    if case[0] == "e2":
        env = make_env("banditlab/LSDLaforgue2-v1", horizon=horizon)
    else:
        preset, k, tau, inst = case
        env = LSDBandit(preset=preset, random_instance_seed=inst, n_arms=k, tau_max=tau,
                        horizon=horizon, exact_state_cap=1)
    table = env.unwrapped.payoff_table
    k, _, tau = table.shape

    def advance(ref, pulled):
        return [(("on", min(lv + 1, tau)) if kd == "on" else ("on", 1)) if i == pulled
                else (("off", min(lv + 1, tau)) if kd == "off" else ("off", 1))
                for i, (kd, lv) in enumerate(ref)]

    n_safe = n_sched_safe = n_checked = 0
    for seed in range(3):
        agent = make_agent("LSDLPRounding-v1", payoff_table=table.tolist(),
                           obs_encoding=env.unwrapped.obs_encoding, relaxation=relaxation)
        obs, _ = env.reset(seed=seed)
        agent.reset(env.action_space, env.observation_space, seed=seed)
        period, idle_len, phase = (agent.state_.period.copy(), agent.state_.idle_len.copy(),
                                   agent.state_.phase.copy())

        def cand(i, t, period=period, idle_len=idle_len, phase=phase):
            return period[i] > 0 and (t - 1 + phase[i]) % period[i] >= idle_len[i]

        init = env.unwrapped.init_state
        ref = [("on", 1) if init == "all_delay_one" else ("off", tau) for _ in range(k)]
        for t in range(1, horizon + 1):
            a = agent.act(obs)
            nxt, r, _, _, info = env.step(a)
            agent.update(obs, a, r, nxt, False)
            obs = nxt
            if any(cand(i, t) for i in range(k)):
                kind, lev = ref[a]
                want = table[a, 0 if kind == "on" else 1, lev - 1]
                assert info["expected_reward"] == pytest.approx(want, abs=1e-12), (seed, t)
                n_checked += 1
                ref = advance(ref, a)
            elif period[a] == 0 or np.all(table[a] == table[a, 0, 0]):
                n_safe += 1
                ref = advance(ref, -1)  # a safe fill: an empty round in the reference
            elif idle_len[a] - (t - 1 + phase[a]) % period[a] - 1 >= _plateau(table[a, 1]):
                n_safe += 1
                n_sched_safe += 1
                ref = advance(ref, -1)
            else:
                ref = advance(ref, a)  # the fallback: a real pull in both worlds
    assert n_safe > 0 and n_checked > 500
    if case[0] == "step" and relaxation == "lsd":
        assert n_sched_safe > 0  # scheduled arms filled far from their next candidate round
