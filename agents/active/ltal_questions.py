"""Question-equivariant LTAL policy for noisy 20 Questions: kernels and the agent.

A learned policy in the sense of Zhang, Jain & Jamieson (2020, "Learning to Actively Learn:
A Robust Approach", arXiv 2010.15382) for identification problems with a finite hypothesis
set given by a P(yes | hypothesis, question) table (20 Questions on the data of Hu et al.,
EMNLP 2018). The architecture is ours [I], built like the ``arms`` policy of
:mod:`banditlab.agents.active.ltal` but over *questions*: one small MLP f, shared by all
questions, maps the per-question features φ_x of :func:`question_features` to a scalar
logit, and the query is drawn from (or is the argmax of) the softmax over the questions. The
policy is equivariant under any relabelling of the questions by construction, has a few
hundred parameters whatever the number of questions, and reads only what every agent
reads: the ``stats`` observation and the hypothesis table (a known constant). The decision
is the maximum-likelihood person (the MAP under a uniform prior), as for the baselines.

The features are functions of the posterior w over persons under a uniform prior (the
table's probabilities clipped to [1e-3, 1 − 1e-3]); with h₁, h₂ the two most likely persons
(lowest index on ties), row x holds::

    0  P(yes at x) = Σ_h w_h p_hx            6  n_x / T (times asked)
    1  H(answer at x), bits                  7  1{n_x > 0}
    2  information gain at x, bits           8  (T − t) / T (budget left)
    3  split 2 min(w⁺_x, w⁻_x) (SGBS)        9  w_h₁ (largest posterior)
    4  |p_h₁x − p_h₂x|                       10 H(w) / log n_h (posterior entropy)
    5  Σ_h w_h |p_hx − p_h₁x|

with w⁺_x the posterior mass of the persons with p_hx ≥ ½ and the information gain
H(answer) − Σ_h w_h H(p_hx). Persons with posterior below 1e-9 are left out of the sums
(a relative error of the features below 1e-7, for speed).

Kernels on top (Numba, no per-step allocation: every buffer is allocated once per call),
the agent below. Training and evaluation: :mod:`banditlab.agents.active.ltal_questions_train`
(``python -m banditlab.agents.active.ltal_questions_train``), which also wrote the shipped
weights ``data/ltal_q20.npz`` (+ ``.json``: the training configuration and measurements).
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numba import njit

from banditlab.agents.active.baselines import ActiveAgent, problem_constraints
from banditlab.agents.active.ltal import (
    backward_accumulate,
    forward_store,
    layer_offsets,
    load_policy,
    masked_choice,
    softmax_gradient,
)
from banditlab.core import BanditlabError
from banditlab.envs.active.providers import P_CLIP
from banditlab.kernels import argmax_random_tiebreak
from banditlab.validation import Boolean, InstanceOf

__all__ = [
    "N_QUESTION_FEATURES",
    "ARCH",
    "QuestionTables",
    "question_tables",
    "question_features",
    "question_logits",
    "question_rollouts",
    "question_policy_gradient",
    "shipped_weights",
    "LTALQuestionPolicy",
]

N_QUESTION_FEATURES = 11
"""Width of the per-question feature vector (see :func:`question_features`)."""
ARCH = "questions"
"""Architecture name written in the policy metadata."""
_W_MIN = 1e-9
_LN2 = float(np.log(2.0))


class QuestionTables(NamedTuple):
    """Arrays derived once from a P(yes) table, each float64[n_h, n_q] (C order).

    Attributes:
        p: P(yes | h, x) clipped to [P_CLIP, 1 − P_CLIP] (the likelihood model).
        logp: log p. log1mp: log(1 − p).
        ent: Binary entropy of p in bits.
        yes: 1.0 where the unclipped table is ≥ ½ (the person's predicted answer), else 0.0.
    """

    p: np.ndarray
    logp: np.ndarray
    log1mp: np.ndarray
    ent: np.ndarray
    yes: np.ndarray


def question_tables(table) -> QuestionTables:
    """The :class:`QuestionTables` of a P(yes) table (float64[n_h, n_q] in [0, 1])."""
    raw = np.asarray(table, dtype=np.float64)
    p = np.ascontiguousarray(np.clip(raw, P_CLIP, 1.0 - P_CLIP))
    logp, log1mp = np.log(p), np.log1p(-p)
    ent = -(p * logp + (1.0 - p) * log1mp) / _LN2
    yes = np.ascontiguousarray((raw >= 0.5).astype(np.float64))
    return QuestionTables(p, np.ascontiguousarray(logp), np.ascontiguousarray(log1mp),
                          np.ascontiguousarray(ent), yes)


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _h2(q):
    q = min(max(q, 1e-12), 1.0 - 1e-12)
    return -(q * np.log(q) + (1.0 - q) * np.log(1.0 - q)) / _LN2


@njit(cache=True)
def question_features(tab, lp, counts, t, budget, w, acc, out):
    """Per-question features of the policy (module docstring) for one state.

    Args:
        tab: :class:`QuestionTables`.
        lp: float64[n_h] log-likelihood of every person (any additive constant).
        counts: float64[n_q] times each question was asked.
        t: Queries asked so far. budget: T.
        w: float64[n_h] scratch, overwritten with the posterior.
        acc: float64[4, n_q] scratch.
        out: float64[n_q, N_QUESTION_FEATURES], overwritten.
    """
    n_h, n_q = tab.p.shape
    m = -np.inf
    h1 = 0
    for h in range(n_h):
        if lp[h] > m:
            m = lp[h]
            h1 = h
    h2 = -1
    for h in range(n_h):
        if h != h1 and (h2 < 0 or lp[h] > lp[h2]):
            h2 = h
    s = 0.0
    for h in range(n_h):
        w[h] = np.exp(lp[h] - m)
        s += w[h]
    hpost = 0.0
    for h in range(n_h):
        w[h] /= s
        if w[h] > 0.0:
            hpost -= w[h] * np.log(w[h])
    hpost /= np.log(n_h)
    acc[:, :] = 0.0
    for h in range(n_h):
        wh = w[h]
        if wh < _W_MIN:
            continue
        for x in range(n_q):
            ph = tab.p[h, x]
            acc[0, x] += wh * ph
            acc[1, x] += wh * tab.ent[h, x]
            acc[2, x] += wh * tab.yes[h, x]
            acc[3, x] += wh * abs(ph - tab.p[h1, x])
    left = (budget - t) / budget
    for x in range(n_q):
        hy = _h2(acc[0, x])
        out[x, 0] = acc[0, x]
        out[x, 1] = hy
        out[x, 2] = max(hy - acc[1, x], 0.0)
        out[x, 3] = 2.0 * min(acc[2, x], 1.0 - acc[2, x])
        out[x, 4] = abs(tab.p[h1, x] - tab.p[h2, x])
        out[x, 5] = acc[3, x]
        out[x, 6] = counts[x] / budget
        out[x, 7] = 1.0 if counts[x] > 0.0 else 0.0
        out[x, 8] = left
        out[x, 9] = w[h1]
        out[x, 10] = hpost


@njit(cache=True)
def question_logits(params, sizes, offs, feats, acts, pre, logits):
    """Logit of every question: the shared MLP at each row of ``feats``.

    Args:
        params: float64[n_params]; sizes: int64[L + 1] (sizes[0] = N_QUESTION_FEATURES,
            sizes[-1] = 1); offs: :func:`~banditlab.agents.active.ltal.layer_offsets`.
        feats: float64[n_q, N_QUESTION_FEATURES].
        acts, pre: float64[K, L + 1, width] stored passes: row x when K = n_q (gradients),
            row 0 reused when K = 1 (rollouts).
        logits: float64[n_q], overwritten.
    """
    L = sizes.shape[0] - 1
    keep = acts.shape[0] > 1
    for x in range(feats.shape[0]):
        k = x if keep else 0
        forward_store(params, sizes, offs, feats[x], acts[k], pre[k])
        logits[x] = acts[k, L, 0]


@njit(cache=True)
def question_rollouts(params, sizes, tab, means, n_rollouts, budget, sample, rng):
    """Batched episodes of the policy on a pool of instances (training and evaluation).

    Every step draws one uniform for the query
    (:func:`~banditlab.agents.active.ltal.masked_choice`) and one for the answer
    ``1[u < means[i, x]]`` (binary answers, as the env with ``unknown="drop"``); the decision
    is the maximum-likelihood person (one uniform for the tie-break).

    Args:
        params, sizes: The shared MLP.
        tab: :class:`QuestionTables` of the hypothesis table.
        means: float64[P, n_q] P(yes) of the secret person of every pool instance.
        n_rollouts: B episodes per instance. budget: T.
        sample: Sample the query from the softmax (else its argmax).
        rng: Generator.

    Returns:
        ``(queries int64[P, B, T], answers float64[P, B, T], z_hat int64[P, B])``.
    """
    P = means.shape[0]
    n_h, n_q = tab.p.shape
    L = sizes.shape[0] - 1
    offs, width = layer_offsets(sizes)
    queries = np.zeros((P, n_rollouts, budget), np.int64)
    answers = np.zeros((P, n_rollouts, budget))
    z_hat = np.zeros((P, n_rollouts), np.int64)
    lp = np.zeros(n_h)
    w = np.zeros(n_h)
    counts = np.zeros(n_q)
    acc = np.zeros((4, n_q))
    feats = np.zeros((n_q, N_QUESTION_FEATURES))
    acts = np.zeros((1, L + 1, width))
    pre = np.zeros((1, L + 1, width))
    logits = np.zeros(n_q)
    for i in range(P):
        for b in range(n_rollouts):
            lp[:] = 0.0
            counts[:] = 0.0
            for t in range(budget):
                question_features(tab, lp, counts, t, budget, w, acc, feats)
                question_logits(params, sizes, offs, feats, acts, pre, logits)
                a = masked_choice(logits, 0, n_q, sample, rng)
                y = 1.0 if rng.random() < means[i, a] else 0.0
                for h in range(n_h):
                    lp[h] += tab.logp[h, a] if y > 0.0 else tab.log1mp[h, a]
                counts[a] += 1.0
                queries[i, b, t] = a
                answers[i, b, t] = y
            z_hat[i, b] = argmax_random_tiebreak(lp, rng)
    return queries, answers, z_hat


@njit(cache=True)
def question_policy_gradient(params, sizes, tab, queries, answers, weights, entropy, budget):
    """Gradient of ``Σ_e weights_e Σ_t −log π(x_et | s_et) − (entropy / N) Σ_{e,t} H(π(·|s_et))``.

    Replays every episode (the posterior and the features are recomputed from its queries
    and answers), stores each question's forward pass and backpropagates the softmax
    gradient of every question's logit through the shared MLP. With ``weights = −advantage``
    this is the REINFORCE estimate of the gradient of the expected loss (to be subtracted).

    Args:
        params, sizes: The shared MLP. tab: :class:`QuestionTables`.
        queries: int64[E, T]; answers: float64[E, T]; weights: float64[E] per episode.
        entropy: Entropy bonus coefficient (divided by the number of steps N = E T).
        budget: T.

    Returns:
        float64[n_params].
    """
    E = queries.shape[0]
    n_h, n_q = tab.p.shape
    L = sizes.shape[0] - 1
    offs, width = layer_offsets(sizes)
    grad = np.zeros(params.shape[0])
    lp = np.zeros(n_h)
    w = np.zeros(n_h)
    counts = np.zeros(n_q)
    acc = np.zeros((4, n_q))
    feats = np.zeros((n_q, N_QUESTION_FEATURES))
    acts = np.zeros((n_q, L + 1, width))
    pre = np.zeros((n_q, L + 1, width))
    logits = np.zeros(n_q)
    dlogit = np.zeros(n_q)
    delta = np.zeros(width)
    scratch = np.zeros(width)
    ent_per = entropy / (E * budget)
    for e in range(E):
        if weights[e] == 0.0 and entropy == 0.0:
            continue
        lp[:] = 0.0
        counts[:] = 0.0
        for t in range(budget):
            a = queries[e, t]
            question_features(tab, lp, counts, t, budget, w, acc, feats)
            question_logits(params, sizes, offs, feats, acts, pre, logits)
            softmax_gradient(logits, 0, n_q, a, weights[e], ent_per, dlogit)
            for x in range(n_q):
                if abs(dlogit[x]) > 1e-12:
                    delta[0] = dlogit[x]
                    backward_accumulate(params, sizes, offs, acts[x], pre[x], delta, scratch,
                                        grad)
            y = answers[e, t]
            for h in range(n_h):
                lp[h] += tab.logp[h, a] if y > 0.0 else tab.log1mp[h, a]
            counts[a] += 1.0
    return grad


def shipped_weights() -> Path:
    """Path of the shipped policy ``data/ltal_q20.npz`` (package data)."""
    return Path(str(importlib.resources.files("banditlab.agents.active") / "data"
                    / "ltal_q20.npz"))


# --------------------------------------------------------------------------- agent
class LTALQuestionPolicy(ActiveAgent):
    """Learned question-equivariant policy for 20 Questions (LTAL, Zhang, Jain & Jamieson 2020).

    Queries by the shared per-question MLP of the module docstring, decides the
    maximum-likelihood person. The default weights are the policy shipped with banditlab,
    trained by min-max training over ρ-classes of the training half of the shipped 20
    Questions persons at T = 20 (:mod:`banditlab.agents.active.ltal_questions_train`, whose
    docstring has the command and the measured per-class losses on the held-out persons).

    Deviations:
        Zhang, Jain & Jamieson's network and training details were not checked [M]. The
        question-equivariant architecture over posterior features, its size (one hidden
        layer of 8 units), the person-level adversary (softmax weights over the training
        persons of a class) and the train / held-out split of the persons are ours [I].
        Measured on the held-out persons at T = 20 (the paper's own numbers are not
        available to compare with): mean loss 0.001–0.015 per class against 0.001–0.012
        for information-gain greedy and 0.51–0.58 for uniform querying; table and command
        in :mod:`banditlab.agents.active.ltal_questions_train` (``MEASURED``).

    Args:
        weights: Path of a policy ``.npz`` with ``"arch": "questions"`` metadata, or None
            (default) for the shipped policy.
        sample: Sample queries from the softmax (as in training) or take the argmax
            (default; measured in :mod:`banditlab.agents.active.ltal_questions_train`).
        budget: T (bind ``"@known:budget"``).
        problem: ``"table"`` (the only problem with a hypothesis table).
        hypothesis_table: P(yes) table (bind ``"@known:hypothesis_table"``), or None for the
            shipped 20 Questions table (100 persons × 500 questions).
    """

    display_name: ClassVar[str] = "LTAL"
    deviation: ClassVar[str | None] = "question-equivariant reconstruction"
    _tags: ClassVar[dict[str, Any]] = {
        "check_env": ("banditlab/ActiveIdentification-v0",
                      {"provider": "q20", "budget": 6, "n_episodes": 6}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **problem_constraints("table"),
        "weights": [None, InstanceOf(str, os.PathLike, what="a path to a policy .npz file")],
        "sample": Boolean(),
    }

    def __init__(self, weights: str | None = None, sample: bool = False, budget: int = 20,
                 problem: str = "table", hypothesis_table=None):
        self.weights = weights
        self.sample = sample
        self.budget = budget
        self.problem = problem
        self.hypothesis_table = hypothesis_table

    def _check_problem_data(self, n_q: int, n_h: int) -> None:
        """The shared checks, with the shipped 20 Questions table when none is bound."""
        if self.hypothesis_table is None:
            from banditlab.envs.active.providers import load_q20

            data = load_q20()
            right, wrong = data["right"], data["wrong"]
            if right.shape != (n_h, n_q):
                raise BanditlabError(
                    f"hypothesis_table: required unless the env is the shipped 20 Questions "
                    f"table ({right.shape[0]} x {right.shape[1]}); bind "
                    f"'@known:hypothesis_table' (the env has {n_h} x {n_q})")
            den = right + wrong
            self.table_ = np.where(den > 0, right / np.maximum(den, 1e-12), 0.5)
            self.features_ = np.zeros((0, 0))
            return
        super()._check_problem_data(n_q, n_h)

    def _validate_params(self, action_space, observation_space) -> None:
        """The shared checks, then the policy file (architecture and layer widths)."""
        super()._validate_params(action_space, observation_space)
        path = shipped_weights() if self.weights is None else self.weights
        self.params_, self.sizes_, meta = load_policy(path)
        if meta.get("arch") != ARCH:
            raise BanditlabError(f"weights: {str(path)!r} is not a 'questions' policy "
                                 f"(metadata arch {meta.get('arch')!r})")
        if self.sizes_[0] != N_QUESTION_FEATURES or self.sizes_[-1] != 1:
            raise BanditlabError(f"weights: {str(path)!r} has {self.sizes_[0]} inputs / "
                                 f"{self.sizes_[-1]} outputs, expected "
                                 f"{N_QUESTION_FEATURES} / 1")

    def _setup(self) -> None:
        self.tab_ = question_tables(self.table_)
        L = len(self.sizes_) - 1
        self.offs_, width = layer_offsets(self.sizes_)
        self.w_ = np.zeros(self.n_h_)
        self.acc_ = np.zeros((4, self.n_q_))
        self.feats_ = np.zeros((self.n_q_, N_QUESTION_FEATURES))
        self.acts_ = np.zeros((1, L + 1, width))
        self.pre_ = np.zeros((1, L + 1, width))
        self.logits_ = np.zeros(self.n_q_)

    def _stats(self, obs):
        counts, sums, t = super()._stats(obs)
        return counts, np.rint(2.0 * sums) / 2.0, t  # exact answer counts (float32 obs)

    def _compute_logits(self, counts, sums, t) -> np.ndarray:
        lp = sums @ self.tab_.logp.T + (counts - sums) @ self.tab_.log1mp.T
        question_features(self.tab_, lp, counts, t, int(self.budget), self.w_, self.acc_,
                          self.feats_)
        question_logits(self.params_, self.sizes_, self.offs_, self.feats_, self.acts_,
                        self.pre_, self.logits_)
        return self.logits_

    def logits(self, observation) -> np.ndarray:
        """Query logits of a query-phase ``stats`` observation (float64[n_q], a copy)."""
        return self._compute_logits(*self._stats(observation)).copy()

    def _query(self, counts, sums, t) -> int:
        logits = self._compute_logits(counts, sums, t)
        return int(masked_choice(logits, 0, self.n_q_, self.sample, self.rng_))
