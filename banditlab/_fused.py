"""Fused Numba run loop: env kernel and agent kernel stepped together in compiled code.

The loop runs one *segment* of rounds ``t_start..t_end`` (inclusive) and returns
the running sums, so the Python driver in :mod:`banditlab.loops` can read
checkpoint values (env comparators, agent diagnostics) between segments at a
cost of one call per checkpoint, independent of the number of rounds.

The accumulation order is exactly that of the Python reference loop, so both
paths produce bit-identical curves (tested for every kernel env x kernel agent pair).

Caching: this is the one kernel compiled without ``cache=True``. It is specialised
on the *types* of the env and agent kernels it receives, and Numba's on-disk cache
index pickles those dispatcher types through weak references; a process that
loads the index without importing every module named in it fails with
``ReferenceError: underlying object has vanished`` when it saves a new entry
(seen with Numba 0.68 in spawned worker processes). The env and agent kernels
themselves are cached; only this small loop is compiled once per process and
(env kernel, agent kernel) pair, which takes well under a second.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fused_run", "fused_segment"]


@njit(cache=False)
def fused_segment(
    env_step,
    env_observe,
    agent_select,
    agent_update,
    env_state,
    env_params,
    agent_state,
    agent_hparams,
    env_rng,
    agent_rng,
    obs,
    t_start,
    t_end,
    sums,
):
    """Run rounds ``t_start..t_end`` of a continuing env with a kernel agent.

    Args:
        env_step: ``EnvKernel.step``.
        env_observe: ``EnvKernel.observe``.
        agent_select: ``AgentKernel.select``.
        agent_update: ``AgentKernel.update``.
        env_state: Env kernel state (mutated in place).
        env_params: Env kernel params.
        agent_state: Agent kernel state (mutated in place).
        agent_hparams: Agent kernel hyperparameters.
        env_rng: The env's noise generator (advanced in place).
        agent_rng: The agent's generator (advanced in place).
        obs: Current kernel observation (float64 array).
        t_start: First round of the segment (from 1).
        t_end: Last round of the segment (inclusive).
        sums: float64[3] running sums ``(reward, expected_reward,
            optimal_expected_reward)``, updated in place.

    Returns:
        The kernel observation after round ``t_end``.
    """
    s_reward = sums[0]
    s_expected = sums[1]
    s_optimal = sums[2]
    for t in range(t_start, t_end + 1):
        action = agent_select(agent_state, agent_hparams, obs, t, agent_rng)
        reward, expected, optimal = env_step(env_state, env_params, action, env_rng)
        next_obs = env_observe(env_state, env_params)
        agent_update(agent_state, agent_hparams, obs, action, reward, next_obs)
        obs = next_obs
        s_reward += reward
        s_expected += expected
        s_optimal += optimal
    sums[0] = s_reward
    sums[1] = s_expected
    sums[2] = s_optimal
    return obs


@njit(cache=False)
def fused_run(
    env_step,
    env_observe,
    env_checkpoint,
    agent_select,
    agent_update,
    env_state,
    env_params,
    agent_state,
    agent_hparams,
    env_rng,
    agent_rng,
    obs,
    checkpoints,
    n_values,
):
    """Run a whole continuing run, reading checkpoint values in compiled code.

    Used when the agent has no Python-level ``diagnostics`` (otherwise the
    driver runs :func:`fused_segment` between checkpoints).

    Args:
        env_step, env_observe, env_checkpoint: ``EnvKernel`` functions.
        agent_select, agent_update: ``AgentKernel`` functions.
        env_state, env_params, agent_state, agent_hparams: Kernel states and parameters.
        env_rng: The env's noise generator.
        agent_rng: The agent's generator.
        obs: Initial kernel observation.
        checkpoints: int64[n] increasing rounds, the last one being the run length.
        n_values: Length of ``env_checkpoint``'s output.

    Returns:
        ``(sums float64[n, 3], values float64[n, n_values])``: running sums of
        ``(reward, expected_reward, optimal_expected_reward)`` and the env
        checkpoint values at each checkpoint.
    """
    n = checkpoints.shape[0]
    sums_out = np.empty((n, 3))
    values_out = np.empty((n, n_values))
    s_reward = 0.0
    s_expected = 0.0
    s_optimal = 0.0
    ci = 0
    next_cp = checkpoints[0]
    for t in range(1, checkpoints[n - 1] + 1):
        action = agent_select(agent_state, agent_hparams, obs, t, agent_rng)
        reward, expected, optimal = env_step(env_state, env_params, action, env_rng)
        next_obs = env_observe(env_state, env_params)
        agent_update(agent_state, agent_hparams, obs, action, reward, next_obs)
        obs = next_obs
        s_reward += reward
        s_expected += expected
        s_optimal += optimal
        if t == next_cp:
            sums_out[ci, 0] = s_reward
            sums_out[ci, 1] = s_expected
            sums_out[ci, 2] = s_optimal
            values_out[ci, :] = env_checkpoint(env_state, env_params)
            ci += 1
            if ci < n:
                next_cp = checkpoints[ci]
    return sums_out, values_out
