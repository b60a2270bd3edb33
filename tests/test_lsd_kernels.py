"""Allocation-free LSD kernels: the steady state of variants the registry pairs do not cover,
the observation buffers (views of two rows, copies on the Python side) and the
preallocated block-planning workspaces (reused buffers give the results of fresh ones).
Every registered pair is asserted allocation-free by ``tests/test_allocations.py``."""

from __future__ import annotations

import numpy as np
import pytest

import banditlab.agents  # noqa: F401
import banditlab.envs  # noqa: F401
from banditlab.agents.lsd.combucb import CombUCB1Block, ISICombUCB1
from banditlab.agents.lsd.planners import LSDBlockPlanner, LSDLPRounding, LSDOracleGreedy
from banditlab.agents.lsd.ucb_greedy import LSDUCBGreedy
from banditlab.envs.lsd.blocks import (
    best_block_index,
    best_block_index_into,
    best_block_model,
    best_block_model_into,
    block_work,
)
from banditlab.envs.lsd.env import LSDBandit, laforgue5_delay_payoffs, make_laforgue5
from banditlab.envs.lsd.lp import (
    block_lp_into,
    block_lp_nb,
    block_lp_round_into,
    block_lp_round_nb,
    block_lp_work,
)
from banditlab.envs.lsd.model import (
    OBS_ENCODINGS,
    lsd_decode_value,
    lsd_encode,
    lsd_encode_into,
    lsd_obs_counters,
    lsd_obs_delays,
    lsd_obs_delays_into,
)
from banditlab.harness import run
from banditlab.testing.allocations import enable_nrt_stats


def _nrt_allocs() -> int:
    from numba.core.runtime import rtsys

    return int(rtsys.get_allocation_stats().alloc)


def per_step_allocations(make_env, make_agent, short=200, long=600) -> float:
    """NRT allocations per extra round between a ``short`` and a ``long`` fused run."""
    enable_nrt_stats()

    def count(n):
        env, agent = make_env(n), make_agent()
        before = _nrt_allocs()
        run(env, agent, seed=4, run_length=n, checkpoints=[n], backend="kernel")
        return _nrt_allocs() - before

    count(short)  # compile / load the cached loop
    return (count(long) - count(short)) / (long - short)


def _recharging(n):
    return LSDBandit(preset="recharging", delay_payoffs=laforgue5_delay_payoffs(),
                     init_state="all_delay_one", obs_encoding="delay", horizon=n)


def _gaussian_multi(n):
    return LSDBandit(preset="concave", random_instance_seed=1, n_arms=4, tau_max=5,
                     noise=("gaussian", 0.2), m_pulls=2, obs_encoding="signed_played_negative",
                     horizon=n)


_TABLE5 = make_laforgue5(horizon=10).payoff_table.tolist()

VARIANTS = {
    "block planner, LP rounding": (
        _recharging, lambda: LSDBlockPlanner(payoff_table=_TABLE5, obs_encoding="delay",
                                             block=3, planner="lp")),
    "CombUCB1, exhaustive": (_recharging, lambda: CombUCB1Block(planner="exhaustive")),
    "ISI-CombUCB1, per-block refresh": (_recharging,
                                        lambda: ISICombUCB1(ucb_refresh="per_block")),
    "LP rounding, uniform conflicts": (
        _recharging, lambda: LSDLPRounding(payoff_table=_TABLE5, obs_encoding="delay",
                                           conflict_rule="uniform")),
    "UCB-greedy, Gaussian, several pulls": (
        _gaussian_multi, lambda: LSDUCBGreedy(tau_max=5, obs_encoding="signed_played_negative")),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_unregistered_variants_do_not_allocate_per_step(name):
    make_env, make_agent = VARIANTS[name]
    assert per_step_allocations(make_env, make_agent) == 0.0


@pytest.mark.parametrize("m_pulls", [1, 2])
def test_observe_is_a_view_and_the_previous_observation_stays_intact(m_pulls):
    env = LSDBandit(preset="concave", random_instance_seed=0, n_arms=4, tau_max=4,
                    m_pulls=m_pulls, horizon=50)
    env.reset(seed=1)
    kernel, state = env.kernel, env.state_
    agent = LSDOracleGreedy(payoff_table=env.payoff_table.tolist())
    agent.reset(env.action_space, env.observation_space, seed=2)
    obs = kernel.observe(state, kernel.params)
    assert np.shares_memory(obs, state.obs)
    for _ in range(20):
        before = obs.copy()
        action = agent.act(env.kernel_obs_to_obs(obs))
        env.step(action)
        nxt = kernel.observe(state, kernel.params)
        np.testing.assert_array_equal(obs, before)  # the fused loop hands both to update
        assert np.shares_memory(nxt, state.obs) and not np.shares_memory(nxt, obs)
        k = env.n_arms
        np.testing.assert_array_equal(
            nxt[:k], lsd_encode(state.streak, state.idle, kernel.params.enc, env.tau_max))
        if m_pulls > 1:
            np.testing.assert_array_equal(nxt[k:], state.last_r)
        obs = nxt


def test_python_path_observations_and_actions_are_copies():
    env = LSDBandit(preset="concave", random_instance_seed=0, n_arms=4, tau_max=4, m_pulls=2,
                    horizon=50)
    first, _ = env.reset(seed=1)
    agent = LSDUCBGreedy(tau_max=4)
    agent.reset(env.action_space, env.observation_space, seed=2)
    action = agent.act(first)
    assert not np.shares_memory(action, agent.state_.action)
    kept = first.copy()
    second, *_ = env.step(action)
    np.testing.assert_array_equal(first, kept)
    assert not np.shares_memory(second, env.state_.obs)
    second[:] = 99.0
    assert not np.any(env.state_.obs == 99.0)


@pytest.mark.parametrize("enc", range(len(OBS_ENCODINGS)))
def test_decoding_helpers_match_the_allocating_decoder(enc):
    rng = np.random.default_rng(enc)
    tau = 6
    for _ in range(30):
        played = rng.random(5) < 0.4
        streak = np.where(played, rng.integers(1, tau + 1, 5), 0).astype(np.int64)
        idle = np.where(played, 0, rng.integers(1, tau + 1, 5)).astype(np.int64)
        obs = lsd_encode(streak, idle, enc, tau)
        out = np.full(5, np.nan)
        lsd_encode_into(streak, idle, enc, tau, out)
        np.testing.assert_array_equal(out, obs)
        ref_streak, ref_idle = lsd_obs_counters(obs, enc)
        for i in range(5):
            assert lsd_decode_value(obs[i], enc) == (ref_streak[i], ref_idle[i])
        delays = np.zeros(5, np.int64)
        lsd_obs_delays_into(obs, enc, delays)
        np.testing.assert_array_equal(delays, lsd_obs_delays(obs, enc))


def test_reused_block_workspaces_give_the_results_of_fresh_ones():
    """One workspace sized for the largest block serves every smaller one, call after call."""
    rng = np.random.default_rng(7)
    k_max, l_max = 4, 5
    lp_work = block_lp_work(k_max, l_max)
    work = block_work(k_max, l_max, 0)
    for _ in range(40):
        k, length = int(rng.integers(2, k_max + 1)), int(rng.integers(2, l_max + 1))
        fv, lv = rng.random((k, length)), rng.random((k, length))
        if rng.random() < 0.3:  # ties: equal values everywhere in one arm
            fv[0] = fv[1]
            lv[0] = lv[1]
        w = lp_work
        value, mass = block_lp_nb(fv, lv)
        assert block_lp_into(fv, lv, w) == value
        np.testing.assert_array_equal(w.mass[:k, :length], mass)
        u = float(rng.random())
        out = np.full(length, -1, np.int64)
        block_lp_round_into(fv, lv, u, w, out)
        np.testing.assert_array_equal(out, block_lp_round_nb(fv, lv, u))
        seed = int(rng.integers(1 << 30))
        out = np.full(length, -1, np.int64)
        best_block_index_into(fv, lv, length, np.random.default_rng(seed), work, out)
        np.testing.assert_array_equal(
            out, best_block_index(fv, lv, length, np.random.default_rng(seed)))
        table = np.round(rng.random((k, 2, 3)), 1)  # rounded: ties between sequences
        streak0 = np.array([1, 0, 0, 2][:k], np.int64)
        idle0 = np.array([0, 3, 1, 0][:k], np.int64)
        out = np.full(length, -1, np.int64)
        best_block_model_into(table, streak0, idle0, length, np.random.default_rng(seed),
                              work, out)
        np.testing.assert_array_equal(
            out, best_block_model(table, streak0, idle0, length, np.random.default_rng(seed)))
