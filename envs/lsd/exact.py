"""Exact optimum of last-switch-dependent (LSD) bandits for small instances.

The joint state of an LSD bandit (every arm's ``streak``/``idle`` counter) evolves
deterministically given the actions, so planning with a known payoff table is a
deterministic dynamic programme over the joint state (our design [I]).

Compression (exact, [I]): an arm's counter only matters up to the first level after
which its payoff row is constant, so each arm keeps a *code*

* ``code < c_on[i]``: the arm is on (played last round) with streak ``code + 1``
  (capped at ``c_on[i]``);
* ``code >= c_on[i]``: the arm is off, idle ``code - c_on[i] + 1`` rounds (capped at
  ``c_off[i]``),

where ``c_on[i]``/``c_off[i]`` are the smallest caps beyond which ``f_i(on, .)`` /
``f_i(off, .)`` are constant. The joint state is the mixed-radix number of the codes.

Actions are *pull sets*, rows of a 0/1 matrix ``acts`` int64[A, k] (:func:`pull_sets`):
with one pull per round the ``k`` single arms; with ``m > 1`` pulls per round every set
of at most ``m`` arms, the empty set included (the env of ``m_pulls > 1`` accepts them
all). A set's reward is the sum of its arms' means and each arm's code moves as in the
one-pull case (pulled: on, else off), so the per-arm compression is unchanged.

Kernels:

* :func:`lsd_bfs` enumerates the states reachable from the initial state
  (breadth first) with their deterministic transitions and rewards;
* :func:`lsd_rvi` runs relative value iteration with the aperiodicity transform
  ``P' = tau P + (1 - tau) I`` and returns the optimal gain ``g*`` and a bias;
* :func:`lsd_howard` runs Howard's policy iteration (maximum mean cycle), the fallback
  when RVI converges slowly;
* :func:`lsd_finite_horizon` runs backward induction and returns ``OPT(t)`` for
  every ``t <= T`` from the initial state.

The Python helpers (:func:`build_graph`, :func:`exact_average_reward`,
:func:`exact_finite_horizon`) wrap them and refuse instances above a state cap;
:func:`reachable_graph`, :func:`optimal_average_reward` and :func:`optimal_finite_horizon`
memoise them per payoff table, so the oracle and the ``optimal`` planner of one
instance solve it once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from banditlab.core import BanditlabError

__all__ = [
    "LSDGraph",
    "pull_sets",
    "compress_caps",
    "initial_codes",
    "obs_to_codes",
    "build_graph",
    "exact_average_reward",
    "exact_finite_horizon",
    "lsd_bfs",
    "lsd_rvi",
    "lsd_howard",
    "lsd_finite_horizon",
    "reachable_graph",
    "optimal_average_reward",
    "optimal_finite_horizon",
]

DEFAULT_STATE_CAP = 400_000


def pull_sets(k: int, m: int = 1) -> np.ndarray:
    """Actions of the exact problem: int64[A, k] 0/1 rows.

    ``m = 1``: the ``k`` single arms (row ``a`` pulls arm ``a``). ``m > 1``: every set of
    at most ``m`` arms, by size then lexicographically (row 0 is the empty set).
    """
    if m <= 1:
        return np.eye(k, dtype=np.int64)
    from itertools import combinations

    rows = [np.zeros(k, dtype=np.int64)]
    for size in range(1, m + 1):
        for arms in combinations(range(k), size):
            r = np.zeros(k, dtype=np.int64)
            r[list(arms)] = 1
            rows.append(r)
    return np.array(rows, dtype=np.int64)


def compress_caps(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest per-arm caps beyond which the on/off payoff rows are constant.

    Args:
        table: float64[k, 2, tau_max] payoff table (axis 1: 0 = on, 1 = off).

    Returns:
        ``(c_on, c_off)``: int64[k] each, in ``1..tau_max``.
    """
    k, _, tau = table.shape
    caps = np.ones((2, k), dtype=np.int64)
    for i in range(k):
        for side in range(2):
            row = table[i, side]
            c = tau
            while c > 1 and row[c - 2] == row[tau - 1] and np.all(row[c - 2 :] == row[tau - 1]):
                c -= 1
            caps[side, i] = c
    return caps[0], caps[1]


def initial_codes(c_on: np.ndarray, c_off: np.ndarray, init_state: str) -> np.ndarray:
    """Per-arm codes of the env's initial state (``"idle_max"`` or ``"all_delay_one"``)."""
    if init_state == "idle_max":
        return (c_on + c_off - 1).astype(np.int64)
    return np.zeros(c_on.shape[0], dtype=np.int64)


def obs_to_codes(streak: np.ndarray, idle: np.ndarray, c_on: np.ndarray, c_off: np.ndarray):
    """Per-arm codes of explicit ``streak``/``idle`` counters (int64[k] each)."""
    on = streak > 0
    off_code = c_on + np.minimum(np.maximum(idle, 1), c_off) - 1
    return np.where(on, np.minimum(streak, c_on) - 1, off_code).astype(np.int64)


@njit(cache=True)
def _code_mean(table, c_on, i, code):
    if code < c_on[i]:
        return table[i, 0, code]
    return table[i, 1, code - c_on[i]]


@njit(cache=True)
def lsd_bfs(table, c_on, c_off, init, acts, max_states):
    """Breadth-first enumeration of the joint states reachable from ``init``.

    Args:
        table: float64[k, 2, tau_max] payoff table.
        c_on: int64[k] on caps; c_off: int64[k] off caps (see module docstring).
        init: int64[k] initial codes.
        acts: int64[A, k] pull sets (:func:`pull_sets`).
        max_states: Stop (and return ``ok=False``) beyond this many states.

    Returns:
        ``(ok, keys, nxt, rew)``: ``keys`` int64[S] mixed-radix keys in discovery
        order (state 0 is ``init``), ``nxt`` int64[S, A] successor indices and
        ``rew`` float64[S, A] expected rewards of each action.
    """
    k = init.shape[0]
    n_act = acts.shape[0]
    radix = c_on + c_off
    mult = np.ones(k, dtype=np.int64)
    for i in range(1, k):
        mult[i] = mult[i - 1] * radix[i - 1]
    index = dict()
    key0 = np.int64(0)
    for i in range(k):
        key0 += init[i] * mult[i]
    keys = [key0]
    index[key0] = np.int64(0)
    nxt_flat = [np.int64(0)]
    rew_flat = [0.0]
    nxt_flat.pop()
    rew_flat.pop()
    codes = np.empty(k, dtype=np.int64)
    head = 0
    while head < len(keys):
        key = keys[head]
        rem = key
        for i in range(k):
            codes[i] = rem % radix[i]
            rem //= radix[i]
        for a in range(n_act):
            r = 0.0
            for i in range(k):
                if acts[a, i] == 1:
                    r += _code_mean(table, c_on, i, codes[i])
            rew_flat.append(r)
            nkey = np.int64(0)
            for i in range(k):
                c = codes[i]
                if acts[a, i] == 1:
                    nc = c + 1 if c < c_on[i] - 1 else (c_on[i] - 1 if c < c_on[i] else 0)
                else:
                    nc = c_on[i] if c < c_on[i] else min(c + 1, radix[i] - 1)
                nkey += nc * mult[i]
            if nkey in index:
                nxt_flat.append(index[nkey])
            else:
                if len(keys) >= max_states:
                    return (False, np.empty(0, np.int64), np.empty((0, n_act), np.int64),
                            np.empty((0, n_act)))
                idx = np.int64(len(keys))
                index[nkey] = idx
                keys.append(nkey)
                nxt_flat.append(idx)
        head += 1
    s = len(keys)
    keys_arr = np.empty(s, dtype=np.int64)
    nxt = np.empty((s, n_act), dtype=np.int64)
    rew = np.empty((s, n_act))
    for j in range(s):
        keys_arr[j] = keys[j]
        for a in range(n_act):
            nxt[j, a] = nxt_flat[j * n_act + a]
            rew[j, a] = rew_flat[j * n_act + a]
    return True, keys_arr, nxt, rew


@njit(cache=True)
def lsd_rvi(nxt, rew, tau, tol, max_iter):
    """Relative value iteration with the aperiodicity transform.

    Iterates ``h'(s) = max_a [r(s, a) + tau h(s') + (1 - tau) h(s)] - h'(0)`` on the
    deterministic graph until the span of ``h' - h`` is below ``tol``.

    Args:
        nxt: int64[S, A] successors; rew: float64[S, A] rewards.
        tau: Aperiodicity weight in (0, 1].
        tol: Span tolerance on the gain.
        max_iter: Iteration cap.

    Returns:
        ``(g, h, n_iter, converged)``: gain, float64[S] bias of the *original*
        chain (``tau`` times the transformed bias), iterations, convergence flag.
    """
    s_n, k = nxt.shape
    h = np.zeros(s_n)
    hn = np.empty(s_n)
    g = 0.0
    for it in range(max_iter):
        lo = np.inf
        hi = -np.inf
        for s in range(s_n):
            best = -np.inf
            for a in range(k):
                v = rew[s, a] + tau * h[nxt[s, a]]
                if v > best:
                    best = v
            hn[s] = best + (1.0 - tau) * h[s]
            d = hn[s] - h[s]
            if d < lo:
                lo = d
            if d > hi:
                hi = d
        g = 0.5 * (lo + hi)
        ref = hn[0]
        for s in range(s_n):
            h[s] = hn[s] - ref
        if hi - lo < tol:
            return g, tau * h, it + 1, True
    return g, tau * h, max_iter, False


@njit(cache=True)
def lsd_howard(nxt, rew, eps, max_iter):
    """Howard's policy iteration for the maximum mean cycle of a deterministic graph.

    Used when relative value iteration converges slowly (many near-tied cycles, e.g.
    step payoffs). Policy evaluation follows each state's successor chain to its cycle:
    ``g(s)`` is that cycle's mean reward, ``h`` solves ``h(s) = r(s) - g + h(next)`` with
    ``h = 0`` at one node of each cycle. Improvement switches to a strictly better gain,
    then to a strictly better ``r + h(next)`` among equal gains.

    Args:
        nxt: int64[S, A] successors; rew: float64[S, A] rewards.
        eps: Strict-improvement tolerance.
        max_iter: Iteration cap.

    Returns:
        ``(g, h, policy, n_iter, converged)`` with ``g``, ``h`` float64[S] and ``policy``
        int64[S].
    """
    s_n, k = nxt.shape
    pol = np.empty(s_n, dtype=np.int64)
    for s in range(s_n):
        pol[s] = np.argmax(rew[s])
    g = np.zeros(s_n)
    h = np.zeros(s_n)
    done = np.zeros(s_n, dtype=np.bool_)
    onpath = np.full(s_n, -1, dtype=np.int64)
    stack = np.empty(s_n, dtype=np.int64)
    cyc = np.empty(s_n, dtype=np.int64)
    for it in range(max_iter):
        done[:] = False
        onpath[:] = -1
        for s0 in range(s_n):
            if done[s0]:
                continue
            n = 0
            s = s0
            while not done[s] and onpath[s] != s0:
                onpath[s] = s0
                stack[n] = s
                n += 1
                s = nxt[s, pol[s]]
            if not done[s]:
                # s closes a new cycle: its mean is the gain of every state leading to it.
                length = 0
                total = 0.0
                u = s
                while True:
                    cyc[length] = u
                    length += 1
                    total += rew[u, pol[u]]
                    u = nxt[u, pol[u]]
                    if u == s:
                        break
                gc = total / length
                h[cyc[0]] = 0.0
                g[cyc[0]] = gc
                for j in range(length - 1, 0, -1):
                    u = cyc[j]
                    v = cyc[(j + 1) % length]
                    g[u] = gc
                    h[u] = rew[u, pol[u]] - gc + h[v]
                for j in range(length):
                    done[cyc[j]] = True
            for j in range(n - 1, -1, -1):
                u = stack[j]
                if not done[u]:
                    v = nxt[u, pol[u]]
                    g[u] = g[v]
                    h[u] = rew[u, pol[u]] - g[v] + h[v]
                    done[u] = True
        changed = False
        for s in range(s_n):
            best = pol[s]
            v0 = nxt[s, best]
            bg = g[v0]
            bv = rew[s, best] + h[v0]
            for a in range(k):
                v = nxt[s, a]
                if g[v] > bg + eps:
                    best = a
                    bg = g[v]
                    bv = rew[s, a] + h[v]
                elif g[v] > bg - eps and rew[s, a] + h[v] > bv + eps:
                    best = a
                    bv = rew[s, a] + h[v]
            if best != pol[s]:
                pol[s] = best
                changed = True
        if not changed:
            return g, h, pol, it + 1, True
    return g, h, pol, max_iter, False


@njit(cache=True)
def lsd_finite_horizon(nxt, rew, horizon):
    """Backward induction: ``OPT(t) = V_t(s_0)`` for ``t = 0..horizon``.

    Args:
        nxt: int64[S, A] successors; rew: float64[S, A] rewards.
        horizon: Largest ``t``.

    Returns:
        float64[horizon + 1]: the maximal expected total reward of ``t`` rounds
        from state 0.
    """
    s_n, k = nxt.shape
    v = np.zeros(s_n)
    vn = np.empty(s_n)
    out = np.zeros(horizon + 1)
    for t in range(1, horizon + 1):
        for s in range(s_n):
            best = -np.inf
            for a in range(k):
                x = rew[s, a] + v[nxt[s, a]]
                if x > best:
                    best = x
            vn[s] = best
        v, vn = vn, v
        out[t] = v[0]
    return out


@dataclass
class LSDGraph:
    """Reachable joint-state graph of an LSD instance.

    Attributes:
        c_on: int64[k] on caps; c_off: int64[k] off caps.
        keys: int64[S] mixed-radix keys (state 0 is the initial state).
        nxt: int64[S, A] successors; rew: float64[S, A] expected rewards.
        order: int64[S] argsort of ``keys`` (for key lookup).
        acts: int64[A, k] the pull sets (actions) of ``nxt``/``rew`` columns.
    """

    c_on: np.ndarray
    c_off: np.ndarray
    keys: np.ndarray
    nxt: np.ndarray
    rew: np.ndarray
    order: np.ndarray
    acts: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of reachable states."""
        return int(self.keys.shape[0])

    def key_of(self, codes: np.ndarray) -> int:
        """Mixed-radix key of per-arm codes."""
        radix = self.c_on + self.c_off
        mult = np.concatenate([[1], np.cumprod(radix[:-1])]).astype(np.int64)
        return int(np.dot(codes.astype(np.int64), mult))

    def index_of(self, codes: np.ndarray) -> int:
        """State index of per-arm codes (``-1`` when not reachable)."""
        key = self.key_of(codes)
        pos = np.searchsorted(self.keys, key, sorter=self.order)
        if pos < self.keys.shape[0] and self.keys[self.order[pos]] == key:
            return int(self.order[pos])
        return -1


def build_graph(table: np.ndarray, init_state: str = "idle_max",
                max_states: int = DEFAULT_STATE_CAP, m: int = 1) -> LSDGraph:
    """Enumerate the reachable joint states of a payoff table.

    Args:
        table: float64[k, 2, tau_max].
        init_state: ``"idle_max"`` or ``"all_delay_one"``.
        max_states: State cap.
        m: Pulls per round (actions: :func:`pull_sets`).

    Raises:
        BanditlabError: When more than ``max_states`` states are reachable.
    """
    table = np.ascontiguousarray(table, dtype=np.float64)
    c_on, c_off = compress_caps(table)
    if np.sum(np.log2((c_on + c_off).astype(np.float64))) >= 62:
        raise BanditlabError(
            "max_states: the joint state space is too large for 64-bit state keys; the exact "
            "optimum is only available for small instances"
        )
    init = initial_codes(c_on, c_off, init_state)
    acts = pull_sets(table.shape[0], int(m))
    ok, keys, nxt, rew = lsd_bfs(table, c_on, c_off, init, acts, np.int64(max_states))
    if not ok:
        raise BanditlabError(
            f"max_states: more than {max_states} reachable joint states; the exact optimum "
            "is only available for small instances (raise max_states or shrink k/tau_max)"
        )
    return LSDGraph(c_on, c_off, keys, nxt, rew, np.argsort(keys, kind="stable"), acts)


def exact_average_reward(graph: LSDGraph, tol: float = 1e-9, max_iter: int = 20_000,
                         tau: float = 0.5, method: str = "auto"):
    """Optimal average reward ``g*``, a bias ``h`` and a gain-optimal stationary policy.

    ``method="auto"`` runs relative value iteration (``max_iter`` sweeps) and, if it has
    not converged, Howard's policy iteration (:func:`lsd_howard`); ``"rvi"`` and
    ``"howard"`` force one. With RVI the policy plays ``argmax_a r(s, a) + h(s')``:
    every edge tight in the optimality equation lies on cycles of mean ``g*``, so
    following it reaches such a cycle. ``h`` is normalised to ``h(s_0) = 0``.

    Returns:
        ``(g, h, policy)`` with ``policy`` int64[S].
    """
    g, h, _, converged = lsd_rvi(graph.nxt, graph.rew, tau, tol, max_iter)
    if converged and method != "howard":
        q = graph.rew + h[graph.nxt]
        policy = np.argmax(q, axis=1).astype(np.int64)
        return float(g), h, policy
    if method == "rvi":
        raise RuntimeError("relative value iteration did not converge")
    gs, hs, policy, _, ok = lsd_howard(graph.nxt, graph.rew, 1e-12, 100_000)
    if not ok:  # pragma: no cover
        raise RuntimeError("policy iteration did not converge")
    return float(gs[0]), hs - hs[0], policy


def exact_finite_horizon(graph: LSDGraph, horizon: int) -> np.ndarray:
    """``OPT(t)`` for ``t = 0..horizon`` (float64[horizon + 1])."""
    return lsd_finite_horizon(graph.nxt, graph.rew, int(horizon))


# --------------------------------------------------------------------------- memoised solutions
_SOLUTIONS: dict = {}


def _memo(key, fn):
    if key not in _SOLUTIONS:
        if len(_SOLUTIONS) > 256:
            _SOLUTIONS.clear()
        _SOLUTIONS[key] = fn()
    return _SOLUTIONS[key]


def _table_key(table: np.ndarray, init_state: str, m: int = 1) -> tuple:
    table = np.ascontiguousarray(table, dtype=np.float64)
    return (table.tobytes(), table.shape, init_state, int(m))


def reachable_graph(table: np.ndarray, init_state: str = "idle_max",
                    max_states: int = DEFAULT_STATE_CAP, m: int = 1) -> LSDGraph | None:
    """:func:`build_graph`, memoised; ``None`` above ``max_states`` reachable states."""

    def build():
        try:
            return build_graph(table, init_state, max_states, m)
        except BanditlabError:
            return None

    return _memo(_table_key(table, init_state, m) + ("graph", int(max_states)), build)


def optimal_average_reward(table: np.ndarray, init_state: str = "idle_max",
                           max_states: int = DEFAULT_STATE_CAP, m: int = 1):
    """``(g*, h, policy)`` of :func:`exact_average_reward` on :func:`reachable_graph`, memoised.

    ``policy`` holds action indices into the graph's ``acts``.

    Raises:
        RuntimeError: When the reachable state space exceeds ``max_states``.
    """
    graph = reachable_graph(table, init_state, max_states, m)
    if graph is None:
        raise RuntimeError("exact optimum unavailable: reachable state space above the cap")
    return _memo(_table_key(table, init_state, m) + ("rvi", int(max_states)),
                 lambda: exact_average_reward(graph))


def optimal_finite_horizon(table: np.ndarray, init_state: str, max_states: int,
                           horizon: int, m: int = 1) -> np.ndarray:
    """``OPT(t)`` for ``t = 0..horizon`` on :func:`reachable_graph`, memoised.

    Raises:
        RuntimeError: When the reachable state space exceeds ``max_states``.
    """
    graph = reachable_graph(table, init_state, max_states, m)
    if graph is None:
        raise RuntimeError("exact optimum unavailable: reachable state space above the cap")
    return _memo(_table_key(table, init_state, m) + ("fh", int(horizon)),
                 lambda: exact_finite_horizon(graph, horizon))
