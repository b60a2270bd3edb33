"""Model of the adversarial linear-Q MDP: instance construction, exact kernels, table checks.

The leaf module of the family: the env (:mod:`banditlab.envs.advmdp.env`), its oracle
(:mod:`banditlab.envs.advmdp.oracle`) and the agents import from here; it imports
nothing else of the family. Everything here is exact (enumerated states, dense
dynamic programming) except the trajectory sampler, which draws from the generator
it is given.

Shapes used throughout (``H`` layers, ``N`` states per layer, ``A`` actions,
``d`` features). Layer 0 has a single state (index 0); its other ``N - 1`` rows
are padding (zero features, never reached):

* ``phi``: float64[H, N, A, d], features ``phi_h(s, a)`` (rows of reachable pairs in the
  probability simplex, hence norm <= 1).
* ``mu``: float64[H, d, N], latent next-state distributions (``mu[H - 1] = 0``).
* ``P``: float64[H, N, A, N], ``P[h, s, a, s'] = sum_z phi_h(s, a)_z mu_h[z, s']``, the
  probability of moving to state ``s'`` of layer ``h + 1`` (``P[H - 1]`` is all zeros:
  episodes end there).
* ``pi``: float64[H, N, A], a policy table (each row a distribution).
* ``loss``: float64[H, N, A], per-pair losses of one episode (or their average).
* ``q``: float64[H, N, A], occupancy measure ``q[h, s, a] = Pr(s_h = s, a_h = a)``.

The instance is a layered latent-variable MDP, a banditlab design [I] (the papers
cited by the env prove bounds and contain no experimental instance): losses are
``l_k(s, a) = <phi_h(s, a), g_{k, h}>`` with ``g_k`` one of two loss vectors ``g^A`` and
``g^B = 1 - g^A``, so ``Q^pi_k(s, a) = <phi_h(s, a), g_{k, h} + mu_h V^pi_{k, h+1}>`` for
every policy: linear-Q holds exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from banditlab.errors import BanditlabError
from banditlab.validation import Array, validate_value

__all__ = [
    "AdvMDPInstance",
    "build_instance",
    "validate_features",
    "validate_policy_table",
    "cumulative_rows",
    "advmdp_sample_into",
    "advmdp_sample_from_starts",
    "advmdp_sample_trajectories",
    "advmdp_occupancy",
    "advmdp_occupancy_into",
    "advmdp_policy_q_values",
    "advmdp_best_policy_dp",
]


# --------------------------------------------------------------------------- instance
class AdvMDPInstance(NamedTuple):
    """One drawn instance of the adversarial linear-Q MDP.

    Attributes:
        phi: float64[H, N, A, d] features.
        mu: float64[H, d, N] latent next-state distributions (``mu[H - 1] = 0``).
        g_a: float64[H, d], the loss vector ``g^A``.
        g_b: float64[H, d], the loss vector ``g^B = 1 - g^A``.
        P: float64[H, N, A, N] transitions.
        cumP: float64[H, N, A, N] cumulative transition rows (last entry exactly 1; all
            ones when ``H = 1``).
    """

    phi: np.ndarray
    mu: np.ndarray
    g_a: np.ndarray
    g_b: np.ndarray
    P: np.ndarray
    cumP: np.ndarray


def _draw_features(rng, H: int, N: int, A: int, d: int, alpha_phi: float, tabular: bool,
                   ill_conditioned: bool) -> np.ndarray:
    """Dirichlet (or one-hot) features, renormalised exactly onto the simplex."""
    n_lat = d - 1 if ill_conditioned else d
    phi = np.zeros((H, N, A, d))
    for h in range(H):
        n_h = 1 if h == 0 else N
        if tabular:
            for s in range(n_h):
                for a in range(A):
                    phi[h, s, a, s * A + a] = 1.0
        elif n_lat == 1:
            phi[h, :n_h, :, 0] = 1.0
        else:
            phi[h, :n_h, :, :n_lat] = rng.dirichlet(np.full(n_lat, alpha_phi), size=(n_h, A))
    if ill_conditioned:
        for h in range(H):
            phi[h, 0, 0, :] = 0.0
            phi[h, 0, 0, d - 1] = 1.0
    # renormalise exactly onto the simplex (Dirichlet draws can be off by ulps)
    sums = phi.sum(axis=-1, keepdims=True)
    return np.where(sums > 0, phi / np.where(sums > 0, sums, 1.0), 0.0)


def build_instance(H: int, N: int, A: int, d: int, *, alpha_phi: float, alpha_mu: float,
                   instance_seed: int, tabular: bool = False, ill_conditioned: bool = False,
                   features: np.ndarray | None = None) -> AdvMDPInstance:
    """Draw an instance from ``instance_seed`` (arguments already validated).

    Draw order from ``default_rng(instance_seed)``: the features (unless ``features`` is
    given), then ``mu`` layer by layer, then ``g^A``. With ``ill_conditioned`` the last
    latent direction is reachable only along the chain of (state 0, action 0) pairs, which
    has zero loss [I].

    Args:
        H, N, A, d: Sizes (``d = N * A`` when ``tabular``).
        alpha_phi: Dirichlet concentration of the features.
        alpha_mu: Dirichlet concentration of the latent next-state distributions.
        instance_seed: Seed of the instance generator.
        tabular: One-hot features on (s, a).
        ill_conditioned: Add the zero-loss latent chain (needs ``d >= 2``).
        features: Optional float64[H, N, A, d] replacing the drawn features (checked by
            :func:`validate_features`).

    Returns:
        The :class:`AdvMDPInstance`.
    """
    rng = np.random.default_rng(instance_seed)
    if features is None:
        phi = _draw_features(rng, H, N, A, d, alpha_phi, tabular, ill_conditioned)
    else:
        phi = features
    mu = np.zeros((H, d, N))
    for h in range(H - 1):
        mu[h] = rng.dirichlet(np.full(N, alpha_mu), size=d) if N > 1 else 1.0
        if ill_conditioned:
            mu[h, d - 1, :] = 0.0
            mu[h, d - 1, 0] = 1.0
    g_a = rng.random((H, d))
    g_b = 1.0 - g_a
    if ill_conditioned:
        g_a[:, d - 1] = 0.0
        g_b[:, d - 1] = 0.0
    phi = np.ascontiguousarray(phi)
    P = np.einsum("hsad,hdn->hsan", phi, mu)
    P[:, :, :, :] = np.where(P < 0, 0.0, P)
    P = np.ascontiguousarray(P)
    cumP = cumulative_rows(P) if H > 1 else np.ones((H, N, A, N))
    return AdvMDPInstance(phi, mu, g_a, g_b, P, cumP)


# --------------------------------------------------------------------------- checks
def validate_features(features, H: int, N: int, A: int, *, simplex: bool = True,
                      name: str = "features") -> np.ndarray:
    """Check features: shape (H, N, A, d) with d >= 1, finite, ``||phi(s, a)||_2 <= 1``.

    Args:
        features: Array-like of features.
        H, N, A: Expected leading shape.
        simplex: Also require every reachable row (layer 0 state 0, every state of later
            layers) to lie in the probability simplex, as the latent-variable construction
            needs (the env's check); agents only need the norm bound.
        name: Parameter name of the error messages.

    Returns:
        float64[H, N, A, d], contiguous.

    Raises:
        BanditlabError: Naming ``name`` and what is wrong.
    """
    phi = validate_value(name, features, Array("float", ndim=4))
    if phi.shape[:3] != (H, N, A) or phi.shape[3] < 1:
        raise BanditlabError(f"{name}: expected shape ({H}, {N}, {A}, d), got {phi.shape}")
    norms = np.linalg.norm(phi, axis=-1)
    if np.any(norms > 1.0 + 1e-12):
        raise BanditlabError(
            f"{name}: every ||phi(s, a)||_2 must be <= 1, got max {norms.max():.6g}"
        )
    if simplex:
        rows = [phi[0, 0], phi[1:].reshape(-1, phi.shape[3])]
        if any(np.any(r < 0.0) or np.any(np.abs(r.sum(axis=-1) - 1.0) > 1e-9) for r in rows):
            raise BanditlabError(
                f"{name}: every reachable phi_h(s, a) must lie in the probability simplex "
                "(entries >= 0 summing to 1; the latent-variable construction needs it)"
            )
    return phi


def validate_policy_table(pi, H: int, N: int, A: int, name: str = "policy_table") -> np.ndarray:
    """Check and convert a policy table to float64[H, N, A].

    Accepts either an array of shape ``(H, N, A)`` or a list of ``H`` per-layer
    arrays of shape ``(n_h, A)`` with ``n_0 = 1`` and ``n_h = N`` otherwise (the
    padded rows of layer 0 are filled with the uniform distribution).

    Raises:
        BanditlabError: When the shape is wrong or a row is not a distribution
            (entries in [0, 1] summing to 1 within 1e-8).
    """
    if isinstance(pi, (list, tuple)):
        if len(pi) != H:
            raise BanditlabError(f"{name}: expected {H} per-layer arrays, got {len(pi)}")
        full = np.full((H, N, A), 1.0 / A)
        for h, layer in enumerate(pi):
            arr = np.asarray(layer, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != A or arr.shape[0] not in (1 if h == 0 else N, N):
                raise BanditlabError(
                    f"{name}: layer {h} must have shape ({1 if h == 0 else N}, {A}), "
                    f"got {arr.shape}"
                )
            full[h, : arr.shape[0]] = arr
        arr = full
    else:
        try:
            arr = np.asarray(pi, dtype=np.float64)
        except (TypeError, ValueError):
            raise BanditlabError(
                f"{name}: expected a float array of shape ({H}, {N}, {A})"
            ) from None
        if arr.shape != (H, N, A):
            raise BanditlabError(f"{name}: expected shape ({H}, {N}, {A}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BanditlabError(f"{name}: entries must be finite probabilities")
    if np.any(arr < 0.0) or np.any(np.abs(arr.sum(axis=2) - 1.0) > 1e-8):
        raise BanditlabError(
            f"{name}: every row pi[h, s, :] must be a distribution (entries >= 0 summing to 1)"
        )
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def advmdp_sample_into(out, cumP, cumpi, starts, rng):
    """Draw ``out.shape[1]`` trajectories of (state, action) pairs from each start, in place.

    Each step takes exactly two uniforms (next state, action) from ``rng``; indices
    are drawn by inverse CDF (smallest ``j`` with ``u < cum[j]``). The kernel behind
    the simulator's ``sample`` and behind the agents' compiled simulator calls.

    Args:
        out: int64[m, n, H, 2], filled for the first ``len(starts)`` rows with ``(s_h, a_h)``;
            layers before the start layer hold -1.
        cumP: float64[H, N, A, N], cumulative transition rows (last entry 1).
        cumpi: float64[H, N, A], cumulative policy rows (last entry 1).
        starts: int64[m', 3] of ``(h, s, a)`` (``m' <= m``); ``h = -1`` starts at the start
            state of layer 0 with an action drawn from the policy.
        rng: The simulator's generator.
    """
    H, N, A = cumpi.shape
    n = out.shape[1]
    for k in range(starts.shape[0]):
        for i in range(n):
            if starts[k, 0] < 0:
                h = 0
                s = 0
                u = rng.random()
                a = 0
                while a < A - 1 and u >= cumpi[0, 0, a]:
                    a += 1
            else:
                h = starts[k, 0]
                s = starts[k, 1]
                a = starts[k, 2]
            for hp in range(h):
                out[k, i, hp, 0] = -1
                out[k, i, hp, 1] = -1
            out[k, i, h, 0] = s
            out[k, i, h, 1] = a
            while h + 1 < H:
                u = rng.random()
                s2 = 0
                while s2 < N - 1 and u >= cumP[h, s, a, s2]:
                    s2 += 1
                s = s2
                h += 1
                u = rng.random()
                a = 0
                while a < A - 1 and u >= cumpi[h, s, a]:
                    a += 1
                out[k, i, h, 0] = s
                out[k, i, h, 1] = a


@njit(cache=True)
def advmdp_sample_from_starts(cumP, cumpi, n, starts, rng):
    """int64[m, n, H, 2]: ``n`` trajectories from each of the ``m`` starts.

    Allocating wrapper of :func:`advmdp_sample_into` (same draws, same layout).
    """
    H = cumpi.shape[0]
    out = np.empty((starts.shape[0], n, H, 2), np.int64)
    advmdp_sample_into(out, cumP, cumpi, starts, rng)
    return out


def advmdp_sample_trajectories(cumP, cumpi, n, h0, s0, a0, rng):
    """int64[n, H, 2]: ``n`` trajectories from one start (``h0 = -1``: the start state).

    Thin wrapper of :func:`advmdp_sample_from_starts` (one start triple).
    """
    starts = np.array([[h0, s0, a0]], dtype=np.int64)
    return advmdp_sample_from_starts(cumP, cumpi, n, starts, rng)[0]


def cumulative_rows(x: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis with the last entry forced to exactly 1."""
    c = np.cumsum(x, axis=-1)
    c[..., -1] = 1.0
    return np.ascontiguousarray(c)


@njit(cache=True, inline="always")
def advmdp_occupancy_into(q, dist, P, pi):
    """Occupancy measure of ``pi`` from the start state into ``q`` (no allocation).

    The forward pass of :func:`advmdp_occupancy`, with the same arithmetic in the same
    order, on caller-owned buffers (the kernels' scratch).

    Args:
        q: float64[H, N, A], written in place: ``q[h, s, a] = Pr(s_h = s, a_h = a)``.
        dist: float64[2, N] buffer (the state distributions of two consecutive layers).
        P: float64[H, N, A, N] transitions.
        pi: float64[H, N, A] policy table.
    """
    H, N, A = pi.shape
    for h in range(H):
        for s in range(N):
            for a in range(A):
                q[h, s, a] = 0.0
    cur = 0
    for s in range(N):
        dist[0, s] = 0.0
    dist[0, 0] = 1.0
    for h in range(H):
        nxt = 1 - cur
        for s in range(N):
            dist[nxt, s] = 0.0
        for s in range(N):
            ds = dist[cur, s]
            if ds == 0.0:
                continue
            for a in range(A):
                m = ds * pi[h, s, a]
                q[h, s, a] = m
                if h + 1 < H and m != 0.0:
                    for s2 in range(N):
                        dist[nxt, s2] += m * P[h, s, a, s2]
        cur = nxt


@njit(cache=True)
def advmdp_occupancy(P, pi):
    """Occupancy measure of ``pi`` from the start state (forward pass).

    Allocating wrapper of :func:`advmdp_occupancy_into`.

    Args:
        P: float64[H, N, A, N] transitions.
        pi: float64[H, N, A] policy table.

    Returns:
        float64[H, N, A], ``q[h, s, a] = Pr(s_h = s, a_h = a)``; each layer sums to 1.
    """
    H, N, A = pi.shape
    q = np.empty((H, N, A))
    advmdp_occupancy_into(q, np.empty((2, N)), P, pi)
    return q


@njit(cache=True)
def advmdp_policy_q_values(P, loss, pi):
    """Q- and V-functions of ``pi`` for ``loss`` by backward dynamic programming.

    Args:
        P: float64[H, N, A, N] transitions.
        loss: float64[H, N, A] losses.
        pi: float64[H, N, A] policy table.

    Returns:
        ``(Q float64[H, N, A], V float64[H + 1, N])`` with ``V[H] = 0``.
    """
    H, N, A = pi.shape
    Q = np.zeros((H, N, A))
    V = np.zeros((H + 1, N))
    for h in range(H - 1, -1, -1):
        for s in range(N):
            v = 0.0
            for a in range(A):
                cont = 0.0
                if h + 1 < H:
                    for s2 in range(N):
                        cont += P[h, s, a, s2] * V[h + 1, s2]
                Q[h, s, a] = loss[h, s, a] + cont
                v += pi[h, s, a] * Q[h, s, a]
            V[h, s] = v
    return Q, V


@njit(cache=True)
def advmdp_best_policy_dp(P, loss):
    """Loss-minimising deterministic policy for ``loss`` by backward dynamic programming.

    Ties are broken towards the smallest action index.

    Args:
        P: float64[H, N, A, N] transitions.
        loss: float64[H, N, A] losses.

    Returns:
        ``(V0 float, policy int64[H, N])``: the optimal value at the start state and
        the minimiser (padded states of layer 0 get action 0).
    """
    H, N, A = loss.shape
    V = np.zeros((H + 1, N))
    policy = np.zeros((H, N), np.int64)
    for h in range(H - 1, -1, -1):
        for s in range(N):
            best = np.inf
            arg = 0
            for a in range(A):
                cont = 0.0
                if h + 1 < H:
                    for s2 in range(N):
                        cont += P[h, s, a, s2] * V[h + 1, s2]
                qv = loss[h, s, a] + cont
                if qv < best:
                    best = qv
                    arg = a
            V[h, s] = best
            policy[h, s] = arg
    return V[0, 0], policy
