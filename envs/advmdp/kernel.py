"""Episodic kernel of the adversarial linear-Q MDP: the env's dynamics as compiled functions.

The env class (:mod:`banditlab.envs.advmdp.env`), its simulator handle and its oracle call
these kernels, and the fused episodic loop of :mod:`banditlab._fused` calls the *same*
kernels with the *same* generators, so both execution paths agree bit for bit
(:class:`~banditlab.core.EnvKernel`, episodic fields).

Shapes (``H`` layers, ``N`` states per layer, ``A`` actions, ``d`` features, ``K``
episodes of the run) are those of :mod:`banditlab.envs.advmdp.model`. Loss tables are
precomputed once per instance so that both paths read identical numbers:

* ``step_loss[0 or 1, h, s, a] = phi_h(s, a) @ g^{A or B}_h`` (the per-step loss, the
  same ``@`` the env has always used);
* ``oracle_loss[0 or 1]``: ``einsum("hsad,hd->hsa", phi, g)``, the oracle's loss table;
  :func:`advmdp_policy_value` sums ``occupancy * oracle_loss`` in NumPy's pairwise
  order (:func:`pairwise_sum`), so it returns exactly what
  ``-np.sum(occupancy * loss_table)`` returned before these kernels existed [M]
  (``pytest tests/test_episodic_fused.py -k "pairwise or numpy_formula"``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.envs.advmdp.model import (
    advmdp_occupancy,
    advmdp_occupancy_into,
    advmdp_sample_into,
)

__all__ = [
    "AdvMDPParams",
    "AdvMDPState",
    "AdvMDPSimHandle",
    "SCHEDULE_CODES",
    "SCRATCH_FIELDS",
    "oracle_loss_tables",
    "advmdp_params",
    "advmdp_schedule",
    "advmdp_init",
    "advmdp_begin_episode",
    "advmdp_step",
    "advmdp_observe",
    "advmdp_terminated",
    "advmdp_checkpoint",
    "advmdp_policy_loss",
    "advmdp_policy_loss_into",
    "advmdp_policy_value",
    "pairwise_sum",
    "pairwise_sum_into",
    "PAIRWISE_STACK",
    "sim_sample",
    "sim_occupancy",
    "sim_occupancy_into",
    "generator_caller",
]

SCHEDULE_CODES = {"stationary": 0, "iid_mix": 1, "switch_half": 2, "switch_p": 3,
                  "doubling_blocks": 4}
"""Integer code of each loss schedule in :attr:`AdvMDPParams.schedule`."""

# positions in AdvMDPState.pos
_H, _S, _K, _IN, _SLOT = 0, 1, 2, 3, 4

PAIRWISE_STACK = 64
"""Frames of the explicit stack of :func:`pairwise_sum_into` (enough for any ``n < 2**63``)."""


class AdvMDPParams(NamedTuple):
    """Instance of the episodic kernel (read-only).

    Attributes:
        phi: float64[H, N, A, d] features.
        P: float64[H, N, A, N] transitions.
        cumP: float64[H, N, A, N] cumulative transition rows (last entry exactly 1).
        step_loss: float64[2, H, N, A], per-step losses under ``g^A`` (0) and ``g^B`` (1).
        oracle_loss: float64[2, H, N, A], the oracle's loss tables (einsum).
        schedule: int64, a value of :data:`SCHEDULE_CODES`.
        p_mix: float64, probability of ``g^A`` (``iid_mix``) or switch fraction (``switch_p``).
        n_episodes: int64, ``K``, the length of the schedule drawn by :func:`advmdp_init`.
        n_extra: int64, entries of :func:`advmdp_checkpoint` (1: loss; 2: loss, sim_calls).
    """

    phi: np.ndarray
    P: np.ndarray
    cumP: np.ndarray
    step_loss: np.ndarray
    oracle_loss: np.ndarray
    schedule: int
    p_mix: float
    n_episodes: int
    n_extra: int


class AdvMDPState(NamedTuple):
    """Mutable state of one run (arrays updated in place).

    Attributes:
        pos: int64[5], ``(h, s, k, in_episode, slot)``: layer (``H`` once the episode has
            terminated), state, episode index from 0, whether a step of episode ``k`` was
            played, and which row of ``obs`` is the current observation.
        is_a: bool[K], the oblivious adversary's schedule (episode ``k`` uses ``g^A``).
        obs: float64[2, 2], two observation buffers ``(h, s)``; each step writes the
            other one, so the previous observation stays valid for one more step.
        loss_sum: float64[1], cumulative loss of the run.
        sim_counts: int64[2], ``(sim_calls, exact_calls)`` of the run's simulator (the same
            array as :attr:`AdvMDPSimHandle.counts`; zeros when the env has none).
        occ: float64[H, N, A] scratch of :func:`advmdp_policy_value` (the occupancy).
        dist: float64[2, N] scratch (state distributions of two consecutive layers).
        prod: float64[H N A] scratch (the products summed pairwise).
        pw_frames: int64[3, PAIRWISE_STACK] scratch of :func:`pairwise_sum_into`
            (``lo``, ``n``, phase of each frame); pw_vals: float64[PAIRWISE_STACK], its
            partial sums.
    """

    pos: np.ndarray
    is_a: np.ndarray
    obs: np.ndarray
    loss_sum: np.ndarray
    sim_counts: np.ndarray
    occ: np.ndarray
    dist: np.ndarray
    prod: np.ndarray
    pw_frames: np.ndarray
    pw_vals: np.ndarray


SCRATCH_FIELDS = ("occ", "dist", "prod", "pw_frames", "pw_vals")
"""Fields of :class:`AdvMDPState` that are scratch buffers, not state: only the fused loop's
:func:`advmdp_policy_value` writes them (the oracle's Python path uses its own buffers)."""


class AdvMDPSimHandle(NamedTuple):
    """What agent kernels see of the simulator (never the losses).

    Attributes:
        cumP: float64[H, N, A, N] cumulative transition rows, for sampling.
        P: float64[H, N, A, N] transitions, for exact queries (``exact`` only).
        exact: bool, whether exact queries are allowed (``simulator_mode="exact"``).
        counts: int64[2], ``(sim_calls, exact_calls)``, incremented by every query.
    """

    cumP: np.ndarray
    P: np.ndarray
    exact: bool
    counts: np.ndarray


# --------------------------------------------------------------------------- Python glue
@functools.cache
def generator_caller(kernel):
    """The process-wide :class:`~banditlab._entry.GeneratorCaller` of ``kernel``.

    The Python path of the env and agents calls kernels that take a generator through
    it: the same kernel with the same generator, passed cheaply (the caller re-wraps
    the generator when a different one is passed). Nothing is stored on the env or
    agent, so their state and pickles are unaffected.
    """
    from banditlab._entry import GeneratorCaller

    return GeneratorCaller(kernel)


# --------------------------------------------------------------------------- construction
def oracle_loss_tables(phi, g_a, g_b) -> np.ndarray:
    """float64[2, H, N, A], the oracle's loss tables ``einsum("hsad,hd->hsa", phi, g)``."""
    return np.ascontiguousarray(np.stack([np.einsum("hsad,hd->hsa", phi, g) for g in (g_a, g_b)]))


def advmdp_params(phi, P, cumP, g_a, g_b, oracle_loss, schedule: str, p_mix: float,
                  n_episodes: int, n_extra: int) -> AdvMDPParams:
    """Build :class:`AdvMDPParams` (the per-step loss table is computed here).

    Args:
        phi, P, cumP, g_a, g_b: The instance (:class:`~banditlab.envs.advmdp.model.AdvMDPInstance`).
        oracle_loss: The oracle's tables (:func:`oracle_loss_tables`, shared with the oracle).
        schedule, p_mix, n_episodes: The env's schedule arguments.
        n_extra: Entries of the checkpoint array (the env's ``extra_metrics``).
    """
    H, N, A, _ = phi.shape
    step_loss = np.empty((2, H, N, A))
    for i, g in enumerate((g_a, g_b)):
        for h in range(H):
            for s in range(N):
                for a in range(A):
                    step_loss[i, h, s, a] = float(phi[h, s, a] @ g[h])
    return AdvMDPParams(phi, P, cumP, step_loss, oracle_loss,
                        int(SCHEDULE_CODES[schedule]), float(p_mix), int(n_episodes),
                        int(n_extra))


def advmdp_schedule(params: AdvMDPParams, rng: np.random.Generator) -> np.ndarray:
    """bool[K], ``True`` where episode ``k`` uses ``g^A`` (draws from ``rng`` for ``iid_mix``).

    ``switch_p`` switches after ``floor(p_mix K)`` episodes; ``doubling_blocks`` alternates
    A, B over blocks of length 1, 2, 4, ...
    """
    K, code = params.n_episodes, params.schedule
    if code == SCHEDULE_CODES["stationary"]:
        return np.ones(K, dtype=bool)
    if code == SCHEDULE_CODES["iid_mix"]:
        return rng.random(K) < params.p_mix
    if code == SCHEDULE_CODES["switch_half"]:
        return np.arange(K) < K // 2
    if code == SCHEDULE_CODES["switch_p"]:
        return np.arange(K) < int(np.floor(params.p_mix * K))
    idx = np.arange(K) + 1
    block = np.floor(np.log2(idx)).astype(np.int64)
    return block % 2 == 0


def advmdp_init(params: AdvMDPParams, rng: np.random.Generator) -> AdvMDPState:
    """State at the start of a run: episode 0, the schedule drawn from ``rng`` (the adversary).

    Plain Python (called by the env's ``reset(seed)``, never inside a compiled loop). Every
    buffer the dynamics and :func:`advmdp_policy_value` use is allocated here.
    """
    H, N, A, _ = params.phi.shape
    obs = np.zeros((2, 2))
    return AdvMDPState(np.zeros(5, np.int64), advmdp_schedule(params, rng), obs, np.zeros(1),
                       np.zeros(2, np.int64), np.zeros((H, N, A)), np.zeros((2, N)),
                       np.zeros(H * N * A), np.zeros((3, PAIRWISE_STACK), np.int64),
                       np.zeros(PAIRWISE_STACK))


# --------------------------------------------------------------------------- dynamics
@njit(cache=True)
def advmdp_begin_episode(state, params):
    """Start the next episode (what ``env.reset()`` without a seed does).

    An episode abandoned after at least one step counts as played; after a terminated
    episode ``k`` already points at the next one.
    """
    pos = state.pos
    if pos[_IN] != 0:
        pos[_K] += 1
    pos[_H] = 0
    pos[_S] = 0
    pos[_IN] = 0
    o = state.obs[pos[_SLOT]]
    o[0] = 0.0
    o[1] = 0.0


@njit(cache=True)
def advmdp_step(state, params, action, rng):
    """One step: ``(reward, expected_reward, nan)``; exactly one ``rng.random()`` per step.

    The loss is deterministic given ``(k, h, s, a)``; the next state is drawn by inverse
    CDF (smallest ``j`` with ``u < cumP[h, s, a, j]``). After the last layer the episode
    terminates (``pos[0] = H``) and the observation is the start state.

    Written so that it cannot raise and makes no array view nor local name bound to an
    array of ``state`` (``np.remainder(k, K)`` is ``k % K`` without Python's
    ``ZeroDivisionError`` branch; ``K >= 1``): otherwise Numba increments and decrements
    the reference count of every array of ``state`` and ``params`` around each step
    (atomic operations that cost several times the step itself, measured in the fused
    loop, which inlines this kernel).
    """
    pos = state.pos
    h = pos[_H]
    s = pos[_S]
    k = pos[_K]
    H = params.phi.shape[0]
    N = params.phi.shape[1]
    K = state.is_a.shape[0]
    which = 0 if state.is_a[np.remainder(k, K)] else 1  # k % K, see the docstring
    loss = params.step_loss[which, h, s, action]
    u = rng.random()
    pos[_IN] = 1
    state.loss_sum[0] += loss
    slot = 1 - pos[_SLOT]
    pos[_SLOT] = slot
    if h + 1 >= H:
        pos[_K] = k + 1
        pos[_IN] = 0
        pos[_H] = H
        pos[_S] = 0
        state.obs[slot, 0] = 0.0
        state.obs[slot, 1] = 0.0
    else:
        s2 = 0
        while s2 < N - 1 and u >= params.cumP[h, s, action, s2]:
            s2 += 1
        pos[_H] = h + 1
        pos[_S] = s2
        state.obs[slot, 0] = float(h + 1)
        state.obs[slot, 1] = float(s2)
    return -loss, -loss, np.nan


@njit(cache=True)
def advmdp_observe(state, params):
    """float64[2] ``(h, s)``: a view of the current observation buffer (no allocation)."""
    return state.obs[state.pos[_SLOT]]


@njit(cache=True)
def advmdp_terminated(state, params):
    """Whether the current episode has terminated (after its ``H``-th step)."""
    return state.pos[_H] >= params.phi.shape[0]


@njit(cache=True)
def advmdp_checkpoint(state, params):
    """float64[n_extra]: cumulative loss, then (with a simulator) cumulative ``sim_calls``."""
    out = np.empty(params.n_extra)
    out[0] = state.loss_sum[0]
    if params.n_extra > 1:
        out[1] = float(state.sim_counts[0])
    return out


@njit(cache=True, inline="always")
def _pairwise_block(a, lo, n):
    """NumPy's pairwise summation of ``a[lo:lo + n]`` for ``n <= 128`` (no split)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    m = n - (n & 7)  # n - n % 8 (n >= 0), without a division that could raise
    while i < m:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, inline="always")
def pairwise_sum_into(a, lo, n, frames, vals):
    """Sum of ``a[lo:lo + n]`` (float64[:]) in the order of NumPy's pairwise summation.

    Blocks of at most 128 are summed with eight interleaved accumulators, longer ranges
    are split in two (the left part a multiple of 8 near the half) and the halves added,
    so the result equals ``np.sum`` of a contiguous array bit for bit. The recursion is
    unrolled with an explicit stack held in caller-owned buffers (no allocation; Numba
    segfaulted on a cached recursive kernel called from another kernel).

    Args:
        a: float64[:] values.
        lo, n: The range ``a[lo:lo + n]``.
        frames: int64[3, PAIRWISE_STACK] buffer (``lo``, ``n``, phase of each frame).
        vals: float64[PAIRWISE_STACK] buffer (partial sums).
    """
    if n <= 128:
        return _pairwise_block(a, lo, n)
    # frames[:, i] = (lo, n, phase) of frame i; phase 0: push the left half, 1: the right
    # half, 2: add them. Indexed in place (no views) and halved by shifts (no division
    # that could raise): see advmdp_step on the reference counts either would cost.
    top = 0
    nv = 0
    frames[0, 0] = lo
    frames[1, 0] = n
    frames[2, 0] = 0
    while top >= 0:
        m = frames[1, top]
        if m <= 128:
            vals[nv] = _pairwise_block(a, frames[0, top], m)
            nv += 1
            top -= 1
            continue
        n2 = m >> 1  # m // 2
        n2 -= n2 & 7  # n2 % 8
        phase = frames[2, top]
        frames[2, top] = phase + 1
        if phase == 0:
            frames[0, top + 1] = frames[0, top]
            frames[1, top + 1] = n2
            frames[2, top + 1] = 0
            top += 1
        elif phase == 1:
            frames[0, top + 1] = frames[0, top] + n2
            frames[1, top + 1] = m - n2
            frames[2, top + 1] = 0
            top += 1
        else:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
            top -= 1
    return vals[0]


@njit(cache=True)
def pairwise_sum(a, lo, n):
    """Sum of ``a[lo:lo + n]`` in NumPy's pairwise order (:func:`pairwise_sum_into`).

    Allocates the stack buffers when ``n > 128``.
    """
    if n <= 128:
        return _pairwise_block(a, lo, n)
    return pairwise_sum_into(a, lo, n, np.zeros((3, PAIRWISE_STACK), np.int64),
                             np.empty(PAIRWISE_STACK))


@njit(cache=True, inline="always")
def advmdp_policy_loss_into(P, loss, pi, q, dist, prod, frames, vals):
    """Expected total loss ``sum(occupancy(P, pi) * loss)`` on caller-owned buffers.

    The occupancy (:func:`~banditlab.envs.advmdp.model.advmdp_occupancy_into`) and the
    products are written into the buffers and summed in NumPy's pairwise order
    (:func:`pairwise_sum_into`); no allocation. This kernel and the three it calls are
    inlined into their callers (``inline="always"``): a call to a compiled function
    that is not inlined makes Numba increment and decrement the reference count of every
    array argument around it, which doubled the cost of the per-episode policy value.

    Args:
        P: float64[H, N, A, N] transitions.
        loss: float64[H, N, A] loss table (contiguous).
        pi: float64[H, N, A] policy table (checked by the caller).
        q: float64[H, N, A] buffer (the occupancy); dist: float64[2, N] buffer.
        prod: float64[H N A] buffer; frames, vals: :func:`pairwise_sum_into` buffers.
    """
    advmdp_occupancy_into(q, dist, P, pi)
    H, N, A = q.shape
    i = 0
    for h in range(H):
        for s in range(N):
            for a in range(A):
                prod[i] = q[h, s, a] * loss[h, s, a]
                i += 1
    return 0.0 + pairwise_sum_into(prod, 0, H * N * A, frames, vals)


@njit(cache=True)
def advmdp_policy_loss(P, loss, pi):
    """Expected total loss ``sum(occupancy(P, pi) * loss)`` in NumPy's summation order.

    Allocating wrapper of :func:`advmdp_policy_loss_into` (the oracle's Python path).

    Args:
        P: float64[H, N, A, N] transitions.
        loss: float64[H, N, A] loss table (contiguous).
        pi: float64[H, N, A] policy table (checked by the caller).
    """
    H, N, A = pi.shape
    return advmdp_policy_loss_into(P, loss, pi, np.empty((H, N, A)), np.empty((2, N)),
                                   np.empty(H * N * A), np.zeros((3, PAIRWISE_STACK), np.int64),
                                   np.empty(PAIRWISE_STACK))


@njit(cache=True)
def advmdp_policy_value(state, params, policy):
    """Exact expected reward ``-V^pi_k(s_0)`` of the current episode ``k`` under ``policy``.

    ``policy`` is a float64[H, N, A] table (checked by the caller). Past the run the
    schedule is read cyclically (``k mod K``), as the env does. The oracle's
    ``policy_expected_reward`` calls :func:`advmdp_policy_loss` on the same table; here
    the same arithmetic (:func:`advmdp_policy_loss_into`) runs on the state's scratch
    buffers (no allocation).
    """
    K = state.is_a.shape[0]
    which = 0 if state.is_a[np.remainder(state.pos[_K], K)] else 1  # see advmdp_step
    return -advmdp_policy_loss_into(params.P, params.oracle_loss[which], policy, state.occ,
                                    state.dist, state.prod, state.pw_frames, state.pw_vals)


# --------------------------------------------------------------------------- simulator
@njit(cache=True)
def sim_sample(sim, out, cumpi, starts, rng):
    """Draw ``out.shape[1]`` trajectories from each start into ``out``; count them.

    Args:
        sim: :class:`AdvMDPSimHandle`.
        out: int64[m, n, H, 2], written in place (``m >= len(starts)``; rows beyond are
            left alone).
        cumpi: float64[H, N, A] cumulative policy rows (last entry 1).
        starts: int64[m', 3] start triples ``(h, s, a)`` (``h = -1``: the start state).
        rng: The simulator's generator.
    """
    advmdp_sample_into(out, sim.cumP, cumpi, starts, rng)
    sim.counts[0] += starts.shape[0] * out.shape[1]


@njit(cache=True)
def sim_occupancy(sim, pi):
    """float64[H, N, A] exact occupancy of ``pi`` (exact simulators only; counted)."""
    sim.counts[1] += 1
    return advmdp_occupancy(sim.P, pi)


@njit(cache=True)
def sim_occupancy_into(sim, q, dist, pi):
    """:func:`sim_occupancy` into ``q`` (float64[H, N, A]; ``dist`` float64[2, N] buffer)."""
    sim.counts[1] += 1
    advmdp_occupancy_into(q, dist, sim.P, pi)
