"""Baselines of the active-identification family (fixed budget T, then one decision).

Kernels on top, classes below. Every agent reads the ``stats`` observation of
``banditlab/ActiveIdentification-v0`` ([counts/T, mean responses, t/T]), which is sufficient
for independent per-query responses, so most agents are functions of the observation; the
decision step is the one whose last entry equals 1.

Known constants reach agents as hyperparameters (``"@known:budget"``, ``"@known:problem"``,
``"@known:hypothesis_table"``, ``"@known:features"``, ``"@known:sigma"``). The defaults fit
the family's default env (Gaussian best-arm identification, n = 5, T = 20).

``problem`` says how hypotheses relate to queries: ``"argmax"`` (hypothesis = query with the
largest mean), ``"thresholds"`` (first point with P(1) ≥ ½), ``"table"`` (finite hypotheses
with P(yes) table, 20 Questions), ``"linear"`` (argmax of ⟨x_j, θ⟩).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from banditlab.core import Agent, BanditlabError, Oracle
from banditlab.envs.active.providers import P_CLIP, PROBLEM_CODES, maxmin_bai
from banditlab.kernels import argmax_random_tiebreak
from banditlab.validation import (
    Array,
    InstanceOf,
    Interval,
    Options,
    require_discrete_actions,
)

_ENV = "banditlab/ActiveIdentification-v0"


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def table_loglik(counts, sums, table):
    """Log-likelihood of every hypothesis of a P(yes) table given per-query statistics.

    Args:
        counts: float64[n_q] times each query was asked.
        sums: float64[n_q] number of "yes" answers of each query.
        table: float64[n_h, n_q] P(yes | h, x), clipped to [1e-3, 1 − 1e-3].

    Returns:
        float64[n_h].
    """
    n_h, n_q = table.shape
    out = np.zeros(n_h)
    for h in range(n_h):
        s = 0.0
        for x in range(n_q):
            c = counts[x]
            if c > 0:
                p = min(max(table[h, x], P_CLIP), 1.0 - P_CLIP)
                s += sums[x] * np.log(p) + (c - sums[x]) * np.log(1.0 - p)
        out[h] = s
    return out


@njit(cache=True)
def thresholds_scores(counts, sums):
    """Empirical-risk score of each threshold k = 0..n (higher is better).

    ``score(k) = Σ_{x<k} (zeros_x − ones_x) + Σ_{x≥k} (ones_x − zeros_x)``: the number of
    labels the threshold classifier agrees with minus those it disagrees with.
    """
    n = counts.shape[0]
    out = np.zeros(n + 1)
    right = 0.0
    for x in range(n):
        right += sums[x] - (counts[x] - sums[x])
    left = 0.0
    for k in range(n + 1):
        out[k] = left + right
        if k < n:
            d = sums[k] - (counts[k] - sums[k])
            right -= d
            left -= d
    return out


@njit(cache=True)
def mle_decision(problem, counts, sums, table, features, rng):
    """Maximum-likelihood (or empirical-risk) hypothesis; random tie-break (one draw).

    Args:
        problem: int code (0 argmax: best empirical mean; 1 thresholds: best empirical risk;
            2 table: largest log-likelihood). The linear problem (code 3) is decided in
            NumPy by :meth:`ActiveAgent._decide` and is not supported here.
        counts: float64[n_q]; sums: float64[n_q] summed responses.
        table: float64[n_h, n_q] P(yes) table (problem 2), else any array.
        features: Unused (kept for a uniform signature).
        rng: Generator for the tie-break.

    Returns:
        int64 hypothesis index.
    """
    n = counts.shape[0]
    if problem == 1:
        return argmax_random_tiebreak(thresholds_scores(counts, sums), rng)
    if problem == 2:
        return argmax_random_tiebreak(table_loglik(counts, sums, table), rng)
    vals = np.empty(n)
    for x in range(n):
        vals[x] = sums[x] / counts[x] if counts[x] > 0 else -np.inf
    return argmax_random_tiebreak(vals, rng)


def linear_decision(counts, sums, features, rng) -> int:
    """Least-squares θ̂ (ridge 1e-6) from per-arm statistics, then argmax_j ⟨x_j, θ̂⟩."""
    A = features.T @ (counts[:, None] * features) + 1e-6 * np.eye(features.shape[1])
    th = np.linalg.solve(A, features.T @ sums)
    return int(argmax_random_tiebreak(features @ th, rng))


# --------------------------------------------------------------------------- base class
def problem_constraints(*problems: str) -> dict[str, Any]:
    """Constraints shared by the active agents: ``budget``, ``problem`` and the problem data.

    Args:
        problems: The problems the agent supports (``problem`` must be one of them).

    Returns:
        Constraints of ``budget``, ``problem``, ``hypothesis_table`` and ``features`` (an
        agent without some of these hyperparameters simply does not check them).
    """
    return {
        "budget": Interval("int", 1, None),
        "problem": Options(*problems),
        "hypothesis_table": [None, Array("float", ndim=2, low=0, high=1)],
        "features": [None, Array("float", ndim=2)],
    }


class ActiveAgent(Agent):
    """Shared plumbing: spaces, phase detection, statistics and the decision rule.

    Subclasses implement :meth:`_query` (and optionally :meth:`_decide`, :meth:`_new_episode`,
    :meth:`_setup`); they declare their hyperparameters in ``_parameter_constraints`` (starting
    from :func:`problem_constraints`) and check relations to the spaces in
    :meth:`_validate_params` after ``super()``.
    Learned state: ``n_q_``, ``n_h_``, ``rng_``, ``table_``, ``features_``, ``problem_code_``.
    """

    _tags: ClassVar[dict[str, Any]] = {
        "families": ("active",),
        "learns": False,  # nothing carries over between episodes (fixed-budget baselines)
        "oracle": False,
        "action_kind": "discrete",
        "needs_simulator": False,
        "exposes_policy": False,
        "check_env": (_ENV, {"n_episodes": 20}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = problem_constraints(
        "argmax", "thresholds", "table", "linear"
    )

    def _validate_params(self, action_space, observation_space) -> None:
        """Check the hyperparameters, then the spaces and the problem data against them.

        Sets ``n_q_``, ``n_h_``, ``table_`` and ``features_`` (used by subclass checks).
        """
        super()._validate_params(action_space, observation_space)
        n_actions = require_discrete_actions(action_space)
        shape = getattr(observation_space, "shape", None)
        if shape is None or len(shape) != 1 or shape[0] % 2 != 1:
            raise BanditlabError(
                "observation_space: expected the 'stats' observation (Box of size 2 n_q + 1)"
            )
        n_q = (shape[0] - 1) // 2
        n_h = n_actions - n_q
        if n_h < 1:
            raise BanditlabError("action_space: expected n_queries + n_hypotheses actions")
        self.n_q_, self.n_h_ = n_q, n_h
        self._check_problem_data(n_q, n_h)

    def _check_problem_data(self, n_q: int, n_h: int) -> None:
        """Check ``hypothesis_table`` / ``features`` and the hypothesis count of ``problem``."""
        self.table_ = np.zeros((0, 0))
        self.features_ = np.zeros((0, 0))
        if self.problem == "table":
            tab = getattr(self, "hypothesis_table", None)
            if tab is None:
                raise BanditlabError("hypothesis_table: required for problem='table'")
            tab = np.asarray(tab, dtype=np.float64)
            if tab.shape != (n_h, n_q):
                raise BanditlabError(
                    f"hypothesis_table: expected shape ({n_h}, {n_q}), got {tab.shape}"
                )
            self.table_ = tab
        if self.problem == "linear":
            feats = getattr(self, "features", None)
            if feats is None:
                raise BanditlabError("features: required for problem='linear'")
            feats = np.asarray(feats, dtype=np.float64)
            if feats.shape[0] != n_q:
                raise BanditlabError(f"features: expected shape ({n_q}, d)")
            self.features_ = feats
        if self.problem in ("argmax", "linear") and n_h != n_q:
            raise BanditlabError("problem: argmax problems need n_hypotheses == n_queries")
        if self.problem == "thresholds" and n_h != n_q + 1:
            raise BanditlabError("problem: thresholds need n_hypotheses == n_queries + 1")

    def _setup(self) -> None:
        """Hook: build derived state from the validated hyperparameters (no random draws)."""

    def reset(self, action_space, observation_space, *, seed=None, simulator=None) -> None:
        """Validate hyperparameters against the spaces, seed ``rng_``, build derived state."""
        self._validate_params(action_space, observation_space)
        self.rng_ = np.random.default_rng(seed)
        self.problem_code_ = PROBLEM_CODES[self.problem]
        self._setup()
        self._new_episode()

    def _stats(self, obs):
        obs = np.asarray(obs, dtype=np.float64)
        n = self.n_q_
        counts = np.rint(obs[:n] * self.budget)
        means = obs[n : 2 * n]
        t = int(round(obs[-1] * self.budget))
        return counts, means * counts, t

    def act(self, observation):
        """A query while t < T, the decision (action ``n_q + ẑ``) when t/T = 1."""
        counts, sums, t = self._stats(observation)
        if t == 0 and counts.sum() == 0:
            self._new_episode()
        if t >= self.budget:
            return int(self.n_q_ + self._decide(counts, sums))
        return int(self._query(counts, sums, t))

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        """Nothing to learn across episodes (state is rebuilt from the observation)."""

    def _new_episode(self) -> None:
        """Hook: reset per-episode state."""

    def _decide(self, counts, sums) -> int:
        if self.problem == "linear":
            return linear_decision(counts, sums, self.features_, self.rng_)
        return int(mle_decision(self.problem_code_, counts, sums, self.table_, self.features_,
                                self.rng_))

    def _query(self, counts, sums, t) -> int:
        raise NotImplementedError


class RoundRobinMLE(ActiveAgent):
    """Uniform allocation: round robin over the queries, then the maximum-likelihood hypothesis.

    The round-robin order is a random permutation drawn at the start of every episode.

    Args:
        budget: T (bind ``"@known:budget"``).
        problem: ``"argmax"``, ``"thresholds"``, ``"table"`` or ``"linear"`` (``"@known:problem"``).
        hypothesis_table: P(yes) table for ``problem="table"``.
        features: Arm features for ``problem="linear"``.
    """

    def __init__(self, budget: int = 20, problem: str = "argmax", hypothesis_table=None,
                 features=None):
        self.budget = budget
        self.problem = problem
        self.hypothesis_table = hypothesis_table
        self.features = features

    def _new_episode(self) -> None:
        self.order_ = self.rng_.permutation(self.n_q_)

    def _query(self, counts, sums, t) -> int:
        if not hasattr(self, "order_"):
            self._new_episode()
        return int(self.order_[t % self.n_q_])


class StaticDesign(ActiveAgent):
    """Oracle static design: x ~ λ*(θ) of the lower-bound program for the true θ, then MLE.

    Registered as ``oracle/StaticDesign-v0`` (tag ``needs_oracle``) and built by
    ``make_benchmark_policy(env.oracle, "static_design")`` with a reference to the env's
    oracle: at the start of every episode it reads the true instance and solves for λ*(θ)
    (cached per instance). With a fixed ``allocation`` (and no oracle) it samples from it;
    with neither, uniformly.

    Args:
        allocation: λ ∈ Δ_{n_q} (list), or None.
        oracle: The env's :class:`~banditlab.envs.active.env.ActiveIdentificationOracle`
            (oracle agents only), or None.
        budget, problem, hypothesis_table, features: as :class:`RoundRobinMLE`.
    """

    _tags: ClassVar[dict[str, Any]] = {"oracle": True, "needs_oracle": True}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **ActiveAgent._parameter_constraints,
        "allocation": [None, Array("float", ndim=1, low=0)],
        "oracle": [None, InstanceOf(Oracle, what="the env's oracle")],
    }

    def __init__(self, allocation=None, oracle=None, budget: int = 20, problem: str = "argmax",
                 hypothesis_table=None, features=None):
        self.allocation = allocation
        self.oracle = oracle
        self.budget = budget
        self.problem = problem
        self.hypothesis_table = hypothesis_table
        self.features = features

    def _validate_params(self, action_space, observation_space) -> None:
        """The shared checks, then ``allocation`` against the number of queries."""
        super()._validate_params(action_space, observation_space)
        if self.allocation is not None:
            lam = np.asarray(self.allocation, dtype=np.float64)
            if lam.shape != (self.n_q_,) or not np.isclose(lam.sum(), 1.0):
                raise BanditlabError(
                    f"allocation: expected {self.n_q_} non-negative weights summing to 1"
                )

    def _setup(self) -> None:
        self.cache_: dict[bytes, np.ndarray] = {}
        if self.allocation is None:
            self.lam_ = np.full(self.n_q_, 1.0 / self.n_q_)
            return
        lam = np.asarray(self.allocation, dtype=np.float64)
        self.lam_ = lam / lam.sum()

    def _new_episode(self) -> None:
        if self.oracle is None or self.oracle.theta is None:
            return
        key = self.oracle.theta.tobytes()
        if key not in self.cache_:
            self.cache_[key] = np.asarray(self.oracle.provider.allocation(self.oracle.theta))
        self.lam_ = self.cache_[key]

    def _query(self, counts, sums, t) -> int:
        return int(min(np.searchsorted(np.cumsum(self.lam_), self.rng_.random()),
                       self.n_q_ - 1))


def _sign_table(problem: str, table: np.ndarray, n_q: int) -> np.ndarray:
    """h(x) ∈ {±1} for every hypothesis and query (the hypotheses of SGBS, Nowak 2011)."""
    if problem == "thresholds":
        x = np.arange(n_q)
        return np.where(x[None, :] >= np.arange(n_q + 1)[:, None], 1.0, -1.0)
    if problem == "argmax":  # "arm h is best" predicts a high answer at h, low elsewhere
        return 2.0 * np.eye(n_q) - 1.0
    return np.where(table >= 0.5, 1.0, -1.0)


class SGBS(ActiveAgent):
    """Soft-decision generalised binary search (Nowak 2011, arXiv 0910.4397).

    Weights w(h) ∝ (1−β)^{#agreements} β^{#disagreements}; query the x that maximises
    min(w⁺(x), w⁻(x)), the weight of the hypotheses predicting "yes" resp. "no" at x (the mass
    that is contradicted whatever the answer); decide argmax w. Supports ``thresholds`` and
    ``table`` problems.

    When every hypothesis predicts at every query (``margin = 0``) w⁺ + w⁻ = 1 and the rule is
    exactly Nowak's ``argmin_x |Σ_h w(h) h(x)|``, h(x) ∈ {±1}, with the multiplicative update
    β / (1−β); that is the algorithm for ``thresholds`` (deterministic hypotheses).

    Probabilistic hypotheses (20 Questions). Nowak's model has deterministic ±1 hypotheses
    and label flips at a rate < β. The P(yes) table is not like that: with
    h(x) = sign(2 p_{h,x} − 1) for every entry, the most evenly splitting questions are
    precisely the ambiguous ones (many persons with p near ½), the true person's answer
    contradicts its own sign on about 24 % of the queried questions (15 % on average over
    the table), and SGBS identifies only ≈ 0.50 of the 100 persons at T = 20 against 0.42 for
    uniform querying (β ∈ [0.05, 0.4] makes no difference). We therefore let a hypothesis
    *abstain* at x when ``|p_{h,x} − ½| < margin``: it is counted in neither w⁺ nor w⁻ and its
    weight is multiplied by √(β(1−β)) whatever the answer (neutral between agreeing and
    disagreeing). With the default margin 0.3 (73 % of the entries are confident) the
    contradiction rate on queried questions falls to ≈ 10 % and the identification rate at
    T = 20 rises to ≈ 0.90 (fixed-seed numbers in the tests and the benchmark). The abstention
    is our own extension [I], not in Nowak's paper; ``margin=0`` recovers plain SGBS.

    Best-arm identification (``problem="argmax"``) is outside Nowak's setting: a single pull
    of a Gaussian arm is not a ±1 answer that a hypothesis "arm h is best" predicts. The
    reduction used here is our own [I], so that SGBS can be compared on synthetic best-arm
    identification: hypothesis h predicts a *high* answer at arm h and a
    *low* one at every other arm; answer y_t at arm x is binarised as high when it exceeds the
    average of the per-arm empirical means of the arms pulled before t (the first answer of
    an episode has no reference and updates nothing); the weights, the query rule
    min(w⁺(x), w⁻(x)) = min(w_x, 1 − w_x) and the decision argmax w are Nowak's.

    Args:
        beta: Assumed noise rate in (0, 1/2), or None (default): for ``table`` the
            data-derived noise rate of the confident entries, mean of min(p, 1−p) over the
            entries with ``|p − ½| ≥ margin`` (≈ 0.085 on the shipped 20 Questions table, clipped to
            [0.01, 0.45]); for ``thresholds`` 0.3.
        margin: Abstention margin in [0, 1/2), or None (default): 0.3 for ``table``, 0 for
            ``thresholds``.
        budget, problem, hypothesis_table: as :class:`RoundRobinMLE`.
    """

    _tags: ClassVar[dict[str, Any]] = {
        "check_env": (_ENV, {"provider": "thresholds", "n_episodes": 20}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **problem_constraints("thresholds", "table", "argmax"),
        "beta": [None, Interval("real", 0, 0.5, closed="neither")],
        "margin": [None, Interval("real", 0, 0.5, closed="left")],
    }

    def __init__(self, beta: float | None = None, margin: float | None = None,
                 budget: int = 20, problem: str = "thresholds", hypothesis_table=None):
        self.beta = beta
        self.margin = margin
        self.budget = budget
        self.problem = problem
        self.hypothesis_table = hypothesis_table

    def _setup(self) -> None:
        b, m = self.beta, self.margin
        table = self.problem == "table"
        self.margin_ = float(m) if m is not None else (0.3 if table else 0.0)
        self.sign_ = _sign_table(self.problem, self.table_, self.n_q_)
        if table:
            sure = np.abs(self.table_ - 0.5) >= self.margin_
        else:
            sure = np.ones_like(self.sign_, dtype=bool)
        if b is not None:
            self.beta_ = float(b)
        elif table and sure.any():
            noise = np.minimum(self.table_, 1.0 - self.table_)[sure].mean()
            self.beta_ = float(min(max(noise, 0.01), 0.45))
        else:
            self.beta_ = 0.3
        self.yes_ = ((self.sign_ > 0) & sure).astype(np.float64)  # predicts "yes"
        self.no_ = ((self.sign_ < 0) & sure).astype(np.float64)  # predicts "no"
        self.abst_ = (~sure).astype(np.float64)  # abstains

    def _new_episode(self) -> None:
        self.bai_logw_ = None  # argmax: log-weights updated answer by answer
        self.bai_prev_ = None  # argmax: (counts, sums, last query) before the last answer

    def _bai_update(self, counts, sums) -> None:
        """Binarise the answer received since the last act and update the log-weights."""
        if self.bai_logw_ is None:
            self.bai_logw_ = np.zeros(self.n_q_)
        if self.bai_prev_ is None:
            return
        c0, s0, x = self.bai_prev_
        pulled = c0 > 0
        if not pulled.any():
            return
        y = sums[x] - s0[x]
        high = y > np.mean(s0[pulled] / c0[pulled])
        agree = self.yes_[:, x] if high else self.no_[:, x]
        self.bai_logw_ += np.where(agree > 0, math.log(1 - self.beta_), math.log(self.beta_))

    def _logw(self, counts, sums):
        if self.problem == "argmax":
            self._bai_update(counts, sums)
            self.bai_prev_ = None
            return self.bai_logw_
        agree = self.yes_ @ sums + self.no_ @ (counts - sums)
        abstain = self.abst_ @ counts
        disagree = counts.sum() - agree - abstain
        l1, l0 = math.log(1 - self.beta_), math.log(self.beta_)
        return agree * l1 + disagree * l0 + abstain * 0.5 * (l1 + l0)

    def _query(self, counts, sums, t) -> int:
        lw = self._logw(counts, sums)
        w = np.exp(lw - lw.max())
        w /= w.sum()
        contradicted = np.minimum(w @ self.yes_, w @ self.no_)
        x = int(argmax_random_tiebreak(contradicted, self.rng_))
        if self.problem == "argmax":
            self.bai_prev_ = (counts.copy(), sums.copy(), x)
        return x

    def _decide(self, counts, sums) -> int:
        return int(argmax_random_tiebreak(self._logw(counts, sums), self.rng_))


class InfoGainGreedy(ActiveAgent):
    """Bayesian greedy information gain: query argmax_x I(Y_x; h | data), decide the MAP.

    The likelihood is the P(yes) table (``table``) or, for ``thresholds``, the symmetric
    noise model P(1 | k, x) = 1 − ε if x ≥ k else ε [I].

    Args:
        prior: ``"uniform"`` or ``"popularity"`` (needs ``prior_weights``).
        prior_weights: Prior over hypotheses (bind ``"@known:prior"`` for Q20).
        noise: ε of the thresholds likelihood (default 0.2).
        budget, problem, hypothesis_table: as :class:`RoundRobinMLE`.
    """

    _tags: ClassVar[dict[str, Any]] = {
        "check_env": (_ENV, {"provider": "thresholds", "n_episodes": 20}),
    }
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **problem_constraints("thresholds", "table"),
        "prior": Options("uniform", "popularity"),
        "prior_weights": [None, Array("float", ndim=1, low=0)],
        "noise": Interval("real", 0, 0.5, closed="neither"),
    }

    def __init__(self, prior: str = "uniform", prior_weights=None, noise: float = 0.2,
                 budget: int = 20, problem: str = "thresholds", hypothesis_table=None):
        self.prior = prior
        self.prior_weights = prior_weights
        self.noise = noise
        self.budget = budget
        self.problem = problem
        self.hypothesis_table = hypothesis_table

    def _validate_params(self, action_space, observation_space) -> None:
        """The shared checks, then ``prior_weights`` against ``prior`` and the hypotheses."""
        super()._validate_params(action_space, observation_space)
        if self.prior == "popularity":
            if self.prior_weights is None:
                raise BanditlabError("prior_weights: required for prior='popularity'")
            pw = np.asarray(self.prior_weights, dtype=np.float64)
            if pw.shape != (self.n_h_,) or pw.sum() <= 0:
                raise BanditlabError(f"prior_weights: expected {self.n_h_} non-negative weights")

    def _setup(self) -> None:
        e = self.noise
        if self.problem == "thresholds":
            self.lik_ = np.where(_sign_table("thresholds", self.table_, self.n_q_) > 0,
                                 1 - e, e)
        else:
            self.lik_ = np.clip(self.table_, P_CLIP, 1 - P_CLIP)
        self.loglik1_ = np.log(self.lik_)
        self.loglik0_ = np.log1p(-self.lik_)
        self.ent_ = -(self.lik_ * self.loglik1_ + (1 - self.lik_) * self.loglik0_)
        self.logprior_ = np.zeros(self.n_h_)
        if self.prior == "popularity":
            pw = np.asarray(self.prior_weights, dtype=np.float64)
            self.logprior_ = np.log(np.maximum(pw / pw.sum(), 1e-300))

    def _logpost(self, counts, sums):
        return self.logprior_ + self.loglik1_ @ sums + self.loglik0_ @ (counts - sums)

    def _query(self, counts, sums, t) -> int:
        lp = self._logpost(counts, sums)
        w = np.exp(lp - lp.max())
        w /= w.sum()
        pm = np.clip(w @ self.lik_, 1e-12, 1 - 1e-12)
        gain = -pm * np.log(pm) - (1 - pm) * np.log(1 - pm) - w @ self.ent_
        return int(argmax_random_tiebreak(gain, self.rng_))

    def _decide(self, counts, sums) -> int:
        return int(argmax_random_tiebreak(self._logpost(counts, sums), self.rng_))


class SequentialHalving(ActiveAgent):
    """Sequential halving (Karnin, Koren & Somekh 2013) for fixed-budget best-arm identification.

    ⌈log2 n⌉ rounds; round r pulls each surviving arm ``⌊T / (|S_r| ⌈log2 n⌉)⌋`` times (at least
    once while budget remains), then keeps the better half by cumulative empirical mean
    (a small deviation from the original, which uses only the round's fresh samples).
    Leftover budget goes round robin to the last survivors; the decision is their best mean.

    Args:
        budget: T. problem: ``"argmax"`` or ``"linear"`` (arms are the queries).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = problem_constraints("argmax", "linear")

    def __init__(self, budget: int = 20, problem: str = "argmax"):
        self.budget = budget
        self.problem = problem

    def _new_episode(self) -> None:
        self.active_ = np.arange(self.n_q_)
        self.plan_: list[int] = []
        self.round_ = 0
        self.rounds_ = max(1, math.ceil(math.log2(self.n_q_)))

    def _query(self, counts, sums, t) -> int:
        if not hasattr(self, "active_"):
            self._new_episode()
        if not self.plan_:
            if self.round_ > 0 and len(self.active_) > 1:
                means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)[self.active_]
                keep = max(1, math.ceil(len(self.active_) / 2))
                order = np.argsort(-means, kind="stable")
                self.active_ = np.sort(self.active_[order[:keep]])
            per = max(1, self.budget // (len(self.active_) * self.rounds_))
            self.plan_ = [int(a) for a in self.active_ for _ in range(per)]
            self.round_ += 1
        return self.plan_.pop(0)

    def _decide(self, counts, sums) -> int:
        act = getattr(self, "active_", np.arange(self.n_q_))
        means = np.full(self.n_q_, -np.inf)
        means[act] = np.where(counts[act] > 0, sums[act] / np.maximum(counts[act], 1), -np.inf)
        if not np.isfinite(means).any():
            means[act] = 0.0
        return int(argmax_random_tiebreak(means, self.rng_))


class LUCBForcedStop(ActiveAgent):
    """LUCB (Kalyanakrishnan et al. 2012) run for T queries, then the empirical best arm.

    After one pull of each arm, the leader h (best mean) and the challenger l (largest upper
    confidence bound among the others) are compared; the one with fewer pulls is queried.
    Confidence radius ``sqrt(2 σ² log(1.25 n t⁴ / δ) / N_a)``.

    Args:
        delta: Confidence level in (0, 1) (default 0.1).
        sigma: Noise standard deviation (bind ``"@known:sigma"``).
        budget, problem: as :class:`SequentialHalving`.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **problem_constraints("argmax", "linear"),
        "delta": Interval("real", 0, 1, closed="neither"),
        "sigma": Interval("real", 0, None, closed="neither"),
    }

    def __init__(self, delta: float = 0.1, sigma: float = 1.0, budget: int = 20,
                 problem: str = "argmax"):
        self.delta = delta
        self.sigma = sigma
        self.budget = budget
        self.problem = problem

    def _query(self, counts, sums, t) -> int:
        if counts.min() == 0:
            return int(argmax_random_tiebreak((counts == 0).astype(np.float64), self.rng_))
        means = sums / counts
        n = self.n_q_
        rad = np.sqrt(2 * self.sigma**2 * math.log(1.25 * n * max(t, 1) ** 4 / self.delta)
                      / counts)
        h = int(argmax_random_tiebreak(means, self.rng_))
        ucb = means + rad
        ucb[h] = -np.inf
        lc = int(argmax_random_tiebreak(ucb, self.rng_))
        return h if counts[h] <= counts[lc] else lc

    def _decide(self, counts, sums) -> int:
        means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
        return int(argmax_random_tiebreak(means, self.rng_))


class TrackAndStopBudget(ActiveAgent):
    """Track-and-stop style C-tracking (Garivier & Kaufmann 2016) stopped at T, Gaussian arms.

    Forced exploration: if some arm has fewer than √t − n/2 pulls, pull the least-pulled arm;
    otherwise pull argmax_a (Σ_{s≤t} λ*(θ̂_s)_a − N_a) (C-tracking of the cumulated optimal
    allocations of the plug-in estimates, :func:`maxmin_bai`). Decide the empirical best.

    Args:
        sigma: Noise standard deviation. fw_iters: Mirror-ascent iterations per step.
        budget, problem: as :class:`SequentialHalving` (``argmax`` only).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **problem_constraints("argmax"),
        "sigma": Interval("real", 0, None, closed="neither"),
        "fw_iters": Interval("int", 1, None),
    }

    def __init__(self, sigma: float = 1.0, fw_iters: int = 200, budget: int = 20,
                 problem: str = "argmax"):
        self.sigma = sigma
        self.fw_iters = fw_iters
        self.budget = budget
        self.problem = problem

    def _new_episode(self) -> None:
        self.cum_lam_ = np.zeros(self.n_q_)

    def _query(self, counts, sums, t) -> int:
        if not hasattr(self, "cum_lam_"):
            self._new_episode()
        n = self.n_q_
        if counts.min() == 0 or counts.min() < math.sqrt(t) - n / 2:
            return int(argmax_random_tiebreak(-counts, self.rng_))
        means = sums / counts
        i = int(np.argmax(means))
        c = (means[i] - means) ** 2 / (2 * self.sigma**2)
        c_others = np.delete(c, i)
        if c_others.min() <= 0:
            lam = np.full(n, 1.0 / n)
        else:
            lam = maxmin_bai(c, i, self.fw_iters)[1]
        self.cum_lam_ += lam
        return int(argmax_random_tiebreak(self.cum_lam_ - counts, self.rng_))

    def _decide(self, counts, sums) -> int:
        means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
        return int(argmax_random_tiebreak(means, self.rng_))
