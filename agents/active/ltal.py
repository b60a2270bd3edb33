"""Learned active-identification policies (LTAL, Zhang, Jain & Jamieson 2020): MLP kernels.

Kernels on top, the agent below. The policy is a small multilayer perceptron with LeakyReLU
over the ``stats`` observation (dimension 2 n_q + 1) and one output layer of n_q + n_h logits:
the first n_q are the query head, the last n_h the decision head; each phase takes a softmax
over its own block (the phase mask). With ``decision="mle"`` the decision head is unused and
the agent announces the maximum-likelihood hypothesis.

All parameters live in one flat float64 vector ``params`` with the layer widths in
``sizes = int64[L + 1]`` (input, hidden..., output): layer l has a weight matrix
(sizes[l], sizes[l+1]) stored row-major, followed by its bias. The batched rollouts used by
training (:func:`ltal_rollouts`) run in Numba; gradients are computed in NumPy on the stored
observations (:func:`policy_gradient`). No deep-learning framework is used.

Two architectures (``arch``):

* ``flat`` (any provider): the MLP above over the whole observation.
* ``arms`` (best-arm identification, our design [I]): one small MLP f shared by all arms maps
  the per-arm features φ_i of :func:`arm_features` (pulls, never-pulled flag, leader and
  runner-up flags, gap to the leader and its z-score, 1/sqrt(pulls), t/T) to a scalar, and
  the query logit of arm i is f(φ_i) − prior · n_i with a fixed round-robin prior. The policy
  is permutation-equivariant by construction and the same weights apply to any number of
  arms. On synthetic best-arm identification the flat linear policy never beat uniform round
  robin, the ``arms`` policy does (:mod:`banditlab.agents.active.ltal_train`, MEASURED).

The paper's exact architecture has not been checked [M]; the defaults here are much smaller
than a 3 × 256 MLP so that training finishes in minutes on 2 cores [I].
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numba import njit

from banditlab.agents.active.baselines import ActiveAgent, mle_decision
from banditlab.core import BanditlabError
from banditlab.validation import Array, Boolean, InstanceOf, Interval, Options

LEAK = 0.01
"""Negative slope of the LeakyReLU."""


# --------------------------------------------------------------------------- kernels
def n_params(sizes) -> int:
    """Length of the flat parameter vector for layer widths ``sizes``."""
    sizes = np.asarray(sizes)
    return int(np.sum(sizes[:-1] * sizes[1:] + sizes[1:]))


def init_params(sizes, rng: np.random.Generator) -> np.ndarray:
    """He-style initialisation (std sqrt(2 / fan_in)); biases 0; the output layer scaled by 0.1."""
    out = []
    L = len(sizes) - 1
    for layer in range(L):
        fi, fo = int(sizes[layer]), int(sizes[layer + 1])
        scale = np.sqrt(2.0 / fi) * (0.1 if layer == L - 1 else 1.0)
        out.append((rng.standard_normal((fi, fo)) * scale).ravel())
        out.append(np.zeros(fo))
    return np.concatenate(out)


def init_round_robin(sizes, rng: np.random.Generator, strength: float = 50.0) -> np.ndarray:
    """Warm start of a linear policy (no hidden layer) close to round robin [I].

    :func:`init_params` plus ``−strength`` on the weight from ``counts_x / T`` to the query
    logit x, so the least-asked query is preferred (one extra ask costs ``strength / T``
    logits). Training then only has to learn the adaptive part.

    Raises:
        BanditlabError: When ``sizes`` has hidden layers.
    """
    sizes = np.asarray(sizes)
    if len(sizes) != 2:
        raise BanditlabError("hidden: the round-robin warm start needs a linear policy (hidden=())")
    params = init_params(sizes, rng)
    n_in, n_out = int(sizes[0]), int(sizes[1])
    n_q = (n_in - 1) // 2
    W = params[: n_in * n_out].reshape(n_in, n_out)
    for x in range(n_q):
        W[x, x] -= strength
    return params


@njit(cache=True)
def mlp_forward(params, sizes, x):
    """Logits of one observation.

    Args:
        params: float64[n_params] flat parameters.
        sizes: int64[L + 1] layer widths.
        x: float64[sizes[0]] observation.

    Returns:
        float64[sizes[-1]] logits.
    """
    h = x.copy()
    off = 0
    L = sizes.shape[0] - 1
    for layer in range(L):
        fi = sizes[layer]
        fo = sizes[layer + 1]
        z = np.zeros(fo)
        for i in range(fi):
            hi = h[i]
            if hi != 0.0:
                base = off + i * fo
                for j in range(fo):
                    z[j] += hi * params[base + j]
        off += fi * fo
        for j in range(fo):
            z[j] += params[off + j]
        off += fo
        if layer < L - 1:
            for j in range(fo):
                if z[j] < 0.0:
                    z[j] *= LEAK
        h = z
    return h


@njit(cache=True)
def masked_choice(logits, lo, hi, sample, rng):
    """Index in [lo, hi) drawn from softmax(logits[lo:hi]) (one uniform draw) or its argmax."""
    m = -np.inf
    best = lo
    for j in range(lo, hi):
        if logits[j] > m:
            m = logits[j]
            best = j
    u = rng.random()
    if not sample:
        return best
    s = 0.0
    for j in range(lo, hi):
        s += np.exp(logits[j] - m)
    acc = 0.0
    for j in range(lo, hi):
        acc += np.exp(logits[j] - m) / s
        if u < acc:
            return j
    return hi - 1


ARCH_FLAT = 0
"""Architecture code of one MLP over the whole ``stats`` observation, n_q + n_h outputs."""
ARCH_ARMS = 1
"""Architecture code of one MLP shared by all arms over per-arm features, one output [I]."""
ARCHES = {"flat": ARCH_FLAT, "arms": ARCH_ARMS}
N_ARM_FEATURES = 8
"""Width of the per-arm feature vector of the ``arms`` architecture (see :func:`arm_features`)."""


@njit(cache=True)
def arm_features(x, n_q, budget, sigma, out):
    """Per-arm features of the ``arms`` (permutation-equivariant) policy [I].

    Computed from the ``stats`` observation alone, so the policy sees what any agent sees.
    With n_i the pulls of arm i, m_i its empirical mean, ℓ the leader (largest mean among the
    pulled arms, lowest index on ties) and s the runner-up, row i holds::

        0  n_i / T                      4  gap_i / σ, capped at 4
        1  1{n_i = 0}                   5  gap_i / (σ sqrt(1/n_i + 1/n_o)), capped at 6
        2  1{i = ℓ}                     6  1 / sqrt(max(n_i, 1))
        3  1{i = s}                     7  t / T

    where gap_i = m_ℓ − m_i and o = ℓ for i ≠ ℓ, while for the leader gap_ℓ = m_ℓ − m_s and
    o = s (how contested the lead is); gaps of unpulled arms (or with a single pulled arm)
    are 0.

    Args:
        x: float64[2 n_q + 1] observation (counts / T, means, t / T).
        n_q: Number of arms. budget: T. sigma: Noise standard deviation.
        out: float64[n_q, N_ARM_FEATURES], overwritten.
    """
    lead = -1
    second = -1
    for i in range(n_q):
        if x[i] > 0.0:
            if lead < 0 or x[n_q + i] > x[n_q + lead]:
                second = lead
                lead = i
            elif second < 0 or x[n_q + i] > x[n_q + second]:
                second = i
    for i in range(n_q):
        n_i = np.floor(x[i] * budget + 0.5)  # exact pull counts from float32 observations
        out[i, 0] = x[i]
        out[i, 1] = 1.0 if n_i == 0.0 else 0.0
        out[i, 2] = 1.0 if i == lead else 0.0
        out[i, 3] = 1.0 if i == second else 0.0
        gap = 0.0
        z = 0.0
        other = lead if i != lead else second
        if n_i > 0.0 and other >= 0:
            n_o = np.floor(x[other] * budget + 0.5)
            gap = abs(x[n_q + lead] - x[n_q + i]) if i != lead else x[n_q + lead] - x[n_q + other]
            gap /= sigma
            z = min(gap / np.sqrt(1.0 / n_i + 1.0 / n_o), 6.0)
            gap = min(gap, 4.0)
        out[i, 4] = gap
        out[i, 5] = z
        out[i, 6] = 1.0 / np.sqrt(max(n_i, 1.0))
        out[i, 7] = x[2 * n_q]


@njit(cache=True)
def policy_logits(arch, params, sizes, x, n_q, budget, sigma, prior, feats):
    """Logits of one observation under either architecture.

    Args:
        arch: :data:`ARCH_FLAT` or :data:`ARCH_ARMS`.
        params, sizes: The MLP (``arms``: sizes[0] = N_ARM_FEATURES, sizes[-1] = 1).
        x: float64[2 n_q + 1] observation. n_q: arms/queries. budget: T. sigma: noise sd.
        prior: Fixed round-robin prior, subtracted from query logit x as prior · n_x (one
            extra ask costs ``prior`` logits); not a trainable parameter.
        feats: float64[n_q, N_ARM_FEATURES] scratch (``arms`` only).

    Returns:
        float64[sizes[-1]] (flat: query then decision logits) or float64[n_q] (arms).
    """
    if arch == ARCH_FLAT:
        logits = mlp_forward(params, sizes, x)
    else:
        arm_features(x, n_q, budget, sigma, feats)
        logits = np.zeros(n_q)
        for i in range(n_q):
            logits[i] = mlp_forward(params, sizes, feats[i])[0]
    if prior != 0.0:
        for i in range(n_q):
            logits[i] -= prior * np.floor(x[i] * budget + 0.5)
    return logits


@njit(cache=True)
def ltal_rollouts(params, sizes, means, gaussian, sigma, budget, n_rollouts, problem,
                  decision_head, sample, table, features, rng, arch=ARCH_FLAT, prior=0.0):
    """Batched episodes of the MLP policy on a pool of instances.

    Args:
        params, sizes: The MLP (see :func:`mlp_forward`).
        means: float64[P, n_q] mean responses (P(yes) for Bernoulli) of the pool instances.
        gaussian: True for Gaussian responses ``m + sigma z``, else Bernoulli ``1[u < m]``.
        sigma: Noise standard deviation.
        budget: T.
        n_rollouts: B episodes per instance.
        problem: Problem code for the MLE decision (see ``mle_decision``).
        decision_head: Use the decision head (else the MLE decision).
        sample: Sample queries/decisions from the softmax (else argmax).
        table, features: Passed to ``mle_decision``.
        rng: Generator (queries, responses, tie-breaks).
        arch, prior: Architecture code and fixed round-robin prior (:func:`policy_logits`);
            the ``arms`` architecture has no decision head.

    Returns:
        ``(obs, actions, responses, z_hat)``: float64[P, B, T + 1, 2 n_q + 1] observations
        before each step, int64[P, B, T + 1] actions (queries then ``n_q + ẑ``),
        float64[P, B, T] responses, int64[P, B] decisions.
    """
    P, n_q = means.shape
    n_out = sizes[sizes.shape[0] - 1]
    D = 2 * n_q + 1
    obs = np.zeros((P, n_rollouts, budget + 1, D))
    actions = np.zeros((P, n_rollouts, budget + 1), np.int64)
    responses = np.zeros((P, n_rollouts, budget))
    z_hat = np.zeros((P, n_rollouts), np.int64)
    counts = np.zeros(n_q)
    sums = np.zeros(n_q)
    x = np.zeros(D)
    feats = np.zeros((n_q, N_ARM_FEATURES))
    for p in range(P):
        for b in range(n_rollouts):
            counts[:] = 0.0
            sums[:] = 0.0
            for t in range(budget + 1):
                for q in range(n_q):
                    x[q] = counts[q] / budget
                    x[n_q + q] = sums[q] / counts[q] if counts[q] > 0 else 0.0
                x[D - 1] = t / budget
                obs[p, b, t, :] = x
                if t < budget:
                    logits = policy_logits(arch, params, sizes, x, n_q, budget, sigma, prior,
                                           feats)
                    a = masked_choice(logits, 0, n_q, sample, rng)
                    if gaussian:
                        y = means[p, a] + sigma * rng.standard_normal()
                    else:
                        y = 1.0 if rng.random() < means[p, a] else 0.0
                    counts[a] += 1.0
                    sums[a] += y
                    actions[p, b, t] = a
                    responses[p, b, t] = y
                else:
                    if decision_head:
                        logits = mlp_forward(params, sizes, x)
                        z = masked_choice(logits, n_q, n_out, sample, rng) - n_q
                    else:
                        z = mle_decision(problem, counts, sums, table, features, rng)
                    z_hat[p, b] = z
                    actions[p, b, t] = n_q + z
    return obs, actions, responses, z_hat


@njit(cache=True)
def layer_offsets(sizes):
    """Start of every layer's weights in the flat vector (int64[L + 1]) and the widest layer."""
    L = sizes.shape[0] - 1
    offs = np.zeros(L + 1, np.int64)
    width = sizes[0]
    for layer in range(L):
        offs[layer + 1] = offs[layer] + sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
        width = max(width, sizes[layer + 1])
    return offs, width


@njit(cache=True)
def forward_store(params, sizes, offs, x, acts, pre):
    """Forward pass keeping every layer's pre-activation ``pre`` and activation ``acts``.

    ``acts`` and ``pre`` are float64[L + 1, width] (row 0 of ``acts`` is the input); the
    logits end up in ``acts[L, :sizes[L]]``.
    """
    L = sizes.shape[0] - 1
    for i in range(sizes[0]):
        acts[0, i] = x[i]
    for layer in range(L):
        fi = sizes[layer]
        fo = sizes[layer + 1]
        off = offs[layer]
        for j in range(fo):
            pre[layer + 1, j] = params[off + fi * fo + j]
        for i in range(fi):
            h = acts[layer, i]
            if h != 0.0:
                base = off + i * fo
                for j in range(fo):
                    pre[layer + 1, j] += h * params[base + j]
        for j in range(fo):
            z = pre[layer + 1, j]
            acts[layer + 1, j] = z if (layer == L - 1 or z >= 0.0) else LEAK * z


@njit(cache=True)
def backward_accumulate(params, sizes, offs, acts, pre, delta, scratch, grad):
    """Add the gradient of ``Σ_j delta_j · logit_j`` at the stored pass to ``grad``.

    ``delta`` (float64[width], the output-layer gradient on entry) and ``scratch`` are
    overwritten.
    """
    L = sizes.shape[0] - 1
    for layer in range(L - 1, -1, -1):
        fi = sizes[layer]
        fo = sizes[layer + 1]
        off = offs[layer]
        for j in range(fo):
            grad[off + fi * fo + j] += delta[j]
        for i in range(fi):
            h = acts[layer, i]
            base = off + i * fo
            acc = 0.0
            for j in range(fo):
                grad[base + j] += h * delta[j]
                acc += params[base + j] * delta[j]
            scratch[i] = acc
        if layer > 0:
            for i in range(fi):
                delta[i] = scratch[i] if pre[layer, i] >= 0.0 else LEAK * scratch[i]


@njit(cache=True)
def softmax_gradient(logits, lo, hi, action, w, ent_per_sample, out):
    """``out[j] = ∂/∂logit_j [w · (−log π(action)) − ent · H(π)]`` on the block [lo, hi)."""
    m = -np.inf
    for j in range(lo, hi):
        m = max(m, logits[j])
    s = 0.0
    for j in range(lo, hi):
        s += np.exp(logits[j] - m)
    H = 0.0
    for j in range(lo, hi):
        pj = np.exp(logits[j] - m) / s
        H -= pj * np.log(max(pj, 1e-300))
    for j in range(lo, hi):
        pj = np.exp(logits[j] - m) / s
        g = pj * w
        if j == action:
            g -= w
        if ent_per_sample != 0.0:
            g += ent_per_sample * pj * (np.log(max(pj, 1e-300)) + H)
        out[j] = g


@njit(cache=True)
def policy_gradient(params, sizes, X, actions, lo, hi, weights, entropy):
    """Gradient of ``Σ_k weights_k · (−log π(a_k | x_k)) − (entropy / N) Σ_k H(π(·|x_k))``.

    Per-sample backpropagation in Numba (no BLAS threads: on a loaded 2-core machine the
    multithreaded NumPy products were 30× slower). The softmax of sample k is over the logit
    block ``[lo_k, hi_k)`` (the phase mask). With ``weights = −advantage / B`` this is the
    REINFORCE estimate ``Σ (ℓ − b) ∇ log π`` of the gradient of the expected loss.
    :func:`policy_gradient_numpy` is the batched NumPy reference.

    Args:
        params, sizes: The MLP.
        X: float64[N, D] observations; actions: int64[N]; lo, hi: int64[N] logit blocks.
        weights: float64[N] advantages (already normalised).
        entropy: Entropy bonus coefficient.

    Returns:
        float64[n_params] gradient (to be *subtracted* for descent).
    """
    N = X.shape[0]
    L = sizes.shape[0] - 1
    grad = np.zeros(params.shape[0])
    offs, width = layer_offsets(sizes)
    acts = np.zeros((L + 1, width))
    pre = np.zeros((L + 1, width))
    delta = np.zeros(width)
    scratch = np.zeros(width)
    for k in range(N):
        if weights[k] == 0.0 and entropy == 0.0:
            continue
        forward_store(params, sizes, offs, X[k], acts, pre)
        delta[:] = 0.0
        softmax_gradient(acts[L], lo[k], hi[k], actions[k], weights[k], entropy / N, delta)
        backward_accumulate(params, sizes, offs, acts, pre, delta, scratch, grad)
    return grad


@njit(cache=True)
def arms_policy_gradient(params, sizes, X, actions, weights, entropy, n_q, budget, sigma, prior):
    """:func:`policy_gradient` for the ``arms`` architecture (query steps only).

    The logit of arm i is ``f(φ_i) − prior · n_i`` with f the shared MLP and φ_i the row i of
    :func:`arm_features`; the gradient of sample k backpropagates the softmax gradient of each
    arm's logit through f at φ_i and sums over arms.

    Args:
        params, sizes: The shared MLP (sizes[0] = N_ARM_FEATURES, sizes[-1] = 1).
        X: float64[N, 2 n_q + 1] observations at query steps; actions: int64[N] queried arms.
        weights: float64[N] advantages (already normalised). entropy: Entropy bonus.
        n_q, budget, sigma, prior: As :func:`policy_logits`.

    Returns:
        float64[n_params] gradient (to be *subtracted* for descent).
    """
    N = X.shape[0]
    L = sizes.shape[0] - 1
    grad = np.zeros(params.shape[0])
    offs, width = layer_offsets(sizes)
    acts = np.zeros((n_q, L + 1, width))
    pre = np.zeros((n_q, L + 1, width))
    feats = np.zeros((n_q, N_ARM_FEATURES))
    logits = np.zeros(n_q)
    dlogit = np.zeros(n_q)
    delta = np.zeros(width)
    scratch = np.zeros(width)
    for k in range(N):
        if weights[k] == 0.0 and entropy == 0.0:
            continue
        arm_features(X[k], n_q, budget, sigma, feats)
        for a in range(n_q):
            forward_store(params, sizes, offs, feats[a], acts[a], pre[a])
            logits[a] = acts[a, L, 0] - prior * np.floor(X[k, a] * budget + 0.5)
        softmax_gradient(logits, 0, n_q, actions[k], weights[k], entropy / N, dlogit)
        for a in range(n_q):
            if dlogit[a] != 0.0:
                delta[0] = dlogit[a]
                backward_accumulate(params, sizes, offs, acts[a], pre[a], delta, scratch,
                                     grad)
    return grad


def _unpack(params, sizes):
    out, off = [], 0
    for fi, fo in zip(sizes[:-1], sizes[1:], strict=True):
        W = params[off : off + fi * fo].reshape(fi, fo)
        off += fi * fo
        b = params[off : off + fo]
        off += fo
        out.append((W, b))
    return out


def batch_logits(params, sizes, X):
    """Logits of a batch of observations X (float64[N, D]) in NumPy (matches mlp_forward)."""
    h = X
    layers = _unpack(params, sizes)
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.where(h < 0, LEAK * h, h)
    return h


def policy_gradient_numpy(params, sizes, X, actions, lo, hi, weights, entropy=0.0):
    """Batched NumPy reference of :func:`policy_gradient` (same arguments and result).

    Args:
        params, sizes: The MLP.
        X: float64[N, D] observations; actions: int64[N]; lo, hi: int64[N] logit blocks.
        weights: float64[N] advantages (already normalised).
        entropy: Entropy bonus coefficient (per sample, divided by N).

    Returns:
        float64[n_params] gradient (to be *subtracted* for descent).
    """
    layers = _unpack(params, sizes)
    hs, zs = [X], []
    h = X
    for i, (W, b) in enumerate(layers):
        z = h @ W + b
        zs.append(z)
        h = np.where(z < 0, LEAK * z, z) if i < len(layers) - 1 else z
        hs.append(h)
    logits = hs[-1]
    N, n_out = logits.shape
    cols = np.arange(n_out)[None, :]
    mask = (cols >= lo[:, None]) & (cols < hi[:, None])
    ml = np.where(mask, logits, -np.inf)
    ml = ml - ml.max(axis=1, keepdims=True)
    p = np.where(mask, np.exp(ml), 0.0)
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(p)
    onehot[np.arange(N), actions] = 1.0
    g = (p - onehot) * weights[:, None]
    if entropy:
        logp = np.where(mask, np.log(np.maximum(p, 1e-300)), 0.0)
        H = -(p * logp).sum(axis=1, keepdims=True)
        # d(-H)/dlogits = p (log p + H)
        g += entropy / N * p * (logp + H)
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        gW = hs[i].T @ g
        gb = g.sum(axis=0)
        grads.append((gW, gb))
        if i > 0:
            g = g @ W.T
            g = np.where(zs[i - 1] < 0, LEAK * g, g)
    grads.reverse()
    return np.concatenate([np.concatenate([gW.ravel(), gb]) for gW, gb in grads])


def save_policy(path, params, sizes, meta: dict) -> None:
    """Write ``path`` (.npz, arrays only) and ``path`` with suffix .json (metadata)."""
    path = Path(path)
    np.savez(path, params=np.asarray(params, np.float64), sizes=np.asarray(sizes, np.int64))
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1, sort_keys=True))


def load_policy(path) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read a policy written by :func:`save_policy` (``allow_pickle=False``)."""
    path = Path(path)
    if not path.is_file():
        raise BanditlabError(f"weights: no such file {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            params, sizes = f["params"].astype(np.float64), f["sizes"].astype(np.int64)
    except (KeyError, ValueError, OSError) as e:
        raise BanditlabError(f"weights: {str(path)!r} is not a policy file ({e})") from None
    if params.shape != (n_params(sizes),):
        raise BanditlabError(f"weights: {str(path)!r} has inconsistent parameter sizes")
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return params, sizes, meta


# --------------------------------------------------------------------------- agent
class LTALPolicy(ActiveAgent):
    """A learned (or randomly initialised) LTAL MLP policy as an agent.

    The policies are learned by min-max training over complexity classes (Zhang, Jain &
    Jamieson 2020), :mod:`banditlab.agents.active.ltal_train`.

    Deviations:
        The paper's network and training details were not checked [M]; the architectures
        (``flat``, and the per-arm ``arms`` network for best-arm identification), their
        sizes and the training choices (pool refresh, arm permutations, stage-2 warm start,
        smoothed class gaps) are ours [I]. Measured effect of the ``arms`` architecture
        against the ``flat`` one, and of the stage-2 choices, in
        :mod:`banditlab.agents.active.ltal_train` (``MEASURED``; commands there).

    Args:
        weights: Path of a policy ``.npz`` written by training, or None for a random MLP
            initialised from the reset seed (a sanity baseline; default). The architecture
            (``flat`` or ``arms``), its round-robin prior and σ are read from the policy's
            JSON metadata (absent: ``flat``).
        hidden: Hidden widths of the random (``flat``) MLP when ``weights`` is None.
        decision: ``"mle"`` (maximum likelihood) or ``"head"`` (the decision head).
        sample: Sample queries from the softmax (default, as in training) or take the argmax of
            the query logits. The argmax is the usual choice at evaluation [I]; measured on
            synthetic BAI (n = 5, T = 20) the argmax of a policy trained stochastically
            collapses onto one arm (loss 0.55 against 0.08 when sampling; that was the
            ``flat`` policy), so sampling is the default. The ``arms`` π* of the benchmark
            (n = 5, T = 20) is nearly deterministic: held-out loss 0.014 / 0.042 / 0.089 /
            0.106 sampling against 0.014 / 0.043 / 0.090 / 0.104 with the argmax at
            r = 10 / 20 / 40 / 80 (200 instances × 100 episodes).
        class_index: The class this policy was trained on (π_r), or None for π*.
        budget, problem, hypothesis_table, features: as the baselines.
    """

    display_name: ClassVar[str] = "LTAL"
    deviation: ClassVar[str | None] = "reconstruction"
    _tags: ClassVar[dict[str, Any]] = {"learns": False}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **ActiveAgent._parameter_constraints,
        "weights": [None, InstanceOf(str, os.PathLike, what="a path to a policy .npz file")],
        "hidden": Array("int", ndim=1, low=1, min_len=1),
        "decision": Options("mle", "head"),
        "sample": Boolean(),
        "class_index": [None, Interval("int", 0, None)],
    }

    def __init__(self, weights: str | None = None, hidden: tuple = (32, 32),
                 decision: str = "mle", sample: bool = True, class_index: int | None = None,
                 budget: int = 20, problem: str = "argmax", hypothesis_table=None,
                 features=None):
        self.weights = weights
        self.hidden = hidden
        self.decision = decision
        self.sample = sample
        self.class_index = class_index
        self.budget = budget
        self.problem = problem
        self.hypothesis_table = hypothesis_table
        self.features = features

    def _validate_params(self, action_space, observation_space) -> None:
        """The shared checks, then the policy file (or ``hidden``) against the spaces.

        Loads the weights (``params_``, ``sizes_``, ``arch_``, ``prior_``, ``sigma_``).
        """
        super()._validate_params(action_space, observation_space)
        n_in, n_out = 2 * self.n_q_ + 1, self.n_q_ + self.n_h_
        if self.weights is None:
            self.sizes_ = np.array((n_in, *self.hidden, n_out), dtype=np.int64)
            self.params_ = None
            self.arch_, self.prior_, self.sigma_ = ARCH_FLAT, 0.0, 1.0
        else:
            self.params_, self.sizes_, meta = load_policy(self.weights)
            arch = meta.get("arch", "flat")
            if arch not in ARCHES:
                raise BanditlabError(f"weights: unknown architecture {arch!r} in the metadata")
            self.arch_ = ARCHES[arch]
            self.prior_ = float(meta.get("prior", 0.0))
            self.sigma_ = float(meta.get("sigma", 1.0))
            if self.arch_ == ARCH_ARMS:
                if self.decision != "mle":
                    raise BanditlabError("decision: the 'arms' architecture has no decision "
                                         "head; use decision='mle'")
                n_in, n_out = N_ARM_FEATURES, 1
            if self.sizes_[0] != n_in or self.sizes_[-1] != n_out:
                raise BanditlabError(
                    f"weights: policy has {self.sizes_[0]} inputs / {self.sizes_[-1]} outputs, "
                    f"the env needs {n_in} / {n_out}"
                )

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Load (or initialise) the MLP and seed ``rng_``."""
        super().reset(action_space, observation_space, seed=seed, simulator=simulator)
        if self.params_ is None:
            self.params_ = init_params(self.sizes_, self.rng_)
        self.feats_ = np.zeros((self.n_q_, N_ARM_FEATURES))

    def act(self, observation):
        """Query logits' argmax (or a sample); at t = T the MLE or the decision head."""
        obs = np.asarray(observation, dtype=np.float64)
        counts, sums, t = self._stats(obs)
        if t >= self.budget:
            if self.decision == "head":
                logits = mlp_forward(self.params_, self.sizes_, obs)
                z = masked_choice(logits, self.n_q_, self.n_q_ + self.n_h_, self.sample,
                                  self.rng_) - self.n_q_
                return int(self.n_q_ + z)
            return int(self.n_q_ + self._decide(counts, sums))
        logits = policy_logits(self.arch_, self.params_, self.sizes_, obs, self.n_q_,
                               int(self.budget), self.sigma_, self.prior_, self.feats_)
        return int(masked_choice(logits, 0, self.n_q_, self.sample, self.rng_))
