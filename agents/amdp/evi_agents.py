"""Extended-value-iteration baselines: KL-UCRL, UCRL2B and PMEVI-DT.

Thin classes over the shared tabular optimistic kernel of
:mod:`banditlab.agents.amdp.ucrl2` (same statistics, same episode rule: the
stopping rule of Jaksch et al. 2010, Fig. 1); they differ in the confidence region
of the transitions and, for PMEVI-DT, in the planner:

* KL-UCRL (Filippi, Cappe & Garivier 2010): KL balls
  ``KL(phat(.|s, a) || p) <= C_P / N``; EVI with the KL inner maximisation
  (:func:`banditlab.envs.amdp.planning.optimistic_kl_transition`).
* UCRL2B (Fruit, Pirotta & Lazaric 2020): per-entry empirical-Bernstein boxes;
  EVI with the greedy box maximisation
  (:func:`banditlab.envs.amdp.planning.optimistic_box_transition`).
* PMEVI-DT (Boone & Zhang 2024): projected mitigated EVI with the doubling trick.

Evidence tags: ``[I]`` marks our inference or reconstruction where the paper's
detail was not available to us.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from banditlab.agents.amdp.ucrl2 import (
    N_STATES,
    RADIUS_CODES,
    OptimisticTabularAgent,
    optimistic_init,
    optimistic_select,
    optimistic_update,
)
from banditlab.core import AgentKernel
from banditlab.validation import Boolean, Interval, Options

_BASE_CONSTRAINTS: dict[str, Any] = {
    "delta": Interval("real", 0.0, 1.0, closed="neither"),
    "n_states": N_STATES,
    "evi_max_iter": Interval("int", 1, None),
}


class KLUCRL(OptimisticTabularAgent):
    """KL-UCRL: optimism over Kullback-Leibler confidence balls, doubling episodes.

    The transition set of ``(s, a)`` is ``{p: KL(phat(.|s, a) || p) <= C_P / N(s, a)}``
    and the reward interval ``rhat +- C_R / sqrt(N)``, with the constants of the
    module docstring of :mod:`banditlab.agents.amdp.ucrl2` (``"kl"``). Extended value
    iteration solves the inner problem exactly (Filippi et al. 2010, Appendix);
    episodes and the EVI accuracy ``1 / sqrt(t_k)`` are UCRL2's.

    Args:
        delta: Confidence level in (0, 1) (default 0.05).
        n_states: Number of states or ``None`` (read from the observation space).
        evi_max_iter: Cap on EVI sweeps per episode (default 10000).

    Regret guarantee:
        ``O~(D S sqrt(A T))`` with probability ``1 - delta`` (Filippi et al. 2010), as
        UCRL2, with better behaviour when transitions have small support.

    References:
        Filippi, Cappe & Garivier, "Optimism in Reinforcement Learning and
        Kullback-Leibler Divergence", Allerton 2010 (arXiv 1004.5229).
    """

    display_name: ClassVar[str] = "KL-UCRL"
    _parameter_constraints: ClassVar[dict[str, Any]] = dict(_BASE_CONSTRAINTS)

    def __init__(self, delta: float = 0.05, n_states=None, evi_max_iter: int = 10_000):
        self.delta = delta
        self.n_states = n_states
        self.evi_max_iter = evi_max_iter

    def make_kernel(self) -> AgentKernel:
        """The optimistic tabular kernel with KL balls."""
        return AgentKernel(self._hparams(np.inf, "doubling", radius="kl"), optimistic_init,
                           optimistic_select, optimistic_update)


class UCRL2B(OptimisticTabularAgent):
    """UCRL2B: UCRL2 with empirical-Bernstein confidence intervals per transition entry.

    With ``n = max(1, N(s, a))`` and ``l = ln(18 S A n / delta)``, each next-state
    probability lies in ``phat +- (2 sqrt(phat (1 - phat) l / n) + 6 l / n)`` (clipped to
    [0, 1]) and the mean reward below ``rhat + 2 sqrt(vhat l / n) + 6 l / n``; EVI
    maximises over the intersection of these boxes with the simplex. Episodes are
    UCRL2's.

    Deviations:
        The constants are those of the UCRL2B baseline in the code of Bourel,
        Maillard & Talebi (2020; ``statisticalRL-learners``), not checked against
        the text of Fruit et al. (2020) [I]. Measured effect: none measurable here
        (no second implementation to compare); see ``docs/families/amdp.md`` for
        its regret against UCRL2 (``banditlab run amdp_e1 --scale reduced``).

    Args:
        delta: Confidence level in (0, 1) (default 0.05).
        n_states: Number of states or ``None`` (read from the observation space).
        evi_max_iter: Cap on EVI sweeps per episode (default 10000).

    Regret guarantee:
        ``O~(sqrt(D Gamma S A T))`` for communicating MDPs with at most ``Gamma``
        next states per pair (Fruit et al. 2020).

    References:
        Fruit, Pirotta & Lazaric, "Improved Analysis of UCRL2 with Empirical
        Bernstein Inequality", arXiv 2007.05456 (2020); Bourel, Maillard & Talebi,
        "Tightening Exploration in Upper Confidence Reinforcement Learning", ICML 2020.
    """

    display_name: ClassVar[str] = "UCRL2B"
    deviation: ClassVar[str | None] = "Bourel et al. constants"
    _parameter_constraints: ClassVar[dict[str, Any]] = dict(_BASE_CONSTRAINTS)

    def __init__(self, delta: float = 0.05, n_states=None, evi_max_iter: int = 10_000):
        self.delta = delta
        self.n_states = n_states
        self.evi_max_iter = evi_max_iter

    def make_kernel(self) -> AgentKernel:
        """The optimistic tabular kernel with Bernstein boxes."""
        return AgentKernel(self._hparams(np.inf, "doubling", radius="bernstein"),
                           optimistic_init, optimistic_select, optimistic_update)


PMEVI_REGIONS = ("weissman", "kl", "bernstein", "laplace", "joa")
"""Confidence regions PMEVI-DT can run on (the paper pairs PMEVI with several)."""


class PMEVIDT(OptimisticTabularAgent):
    """PMEVI-DT: projected mitigated extended value iteration with the doubling trick.

    Each episode (UCRL2's doubling episodes) plans by iterating
    ``u <- Gamma(L_beta u)`` until ``sp`` of the increment is below ``1 / sqrt(t_k)``:

    * ``L_beta`` is the extended Bellman operator over the confidence region
      (``radius``; default the Weissman-type L1 region of
      :mod:`banditlab.agents.amdp.ucrl2`) whose optimism is *mitigated*: the
      optimistic next value of ``(s, a)`` is capped at ``phat . u + beta(s, a)``, an
      empirical-Bernstein bound of ``(p - phat) . h*`` valid for every bias in the
      bias region (:func:`banditlab.agents.amdp.ucrl2.mitigation`);
    * ``Gamma`` *projects* onto the bias region: the largest vector below its argument
      with ``u(z) - u(x) <= c(x, z)`` for all pairs
      (:func:`banditlab.envs.amdp.planning.project_bias`), where ``c`` combines the
      prior ``sp(h*) <= span_bound`` (optional) with bounds estimated from the data
      (:func:`banditlab.agents.amdp.ucrl2.bias_region`).

    Without prior information (``span_bound = inf``, the default) and before the
    bias estimates become informative, PMEVI-DT plays as EVI over its region.

    Deviations:
        Reconstructed from the paper's abstract, structure and experiments: the
        text of its bias estimator and of its variance bound (the paper's
        Algorithms 3-5) was not available to us. Ours [I]: pairwise bias bounds from
        the observed passages between states with the episodes' optimistic gains in
        place of ``g*`` and a self-bounding span estimate; a tractable variance bound
        from those pairwise bounds; the Weissman-type radii and the union-bound
        constants. Measured effect against the published algorithm: not measurable
        here (no reference implementation); against EVI on the same region,
        ``banditlab run amdp_e1 --scale reduced`` (``docs/families/amdp.md``).

    Args:
        delta: Confidence level in (0, 1) (default 0.05).
        span_bound: Prior bound on ``sp(h*)`` (> 0; default ``inf``: none).
        radius: Confidence region: ``"weissman"`` (default), ``"kl"``,
            ``"bernstein"``, ``"laplace"`` or ``"joa"``.
        mitigate: Cap the optimism by ``beta`` (default ``True``).
        n_states: Number of states or ``None`` (read from the observation space).
        evi_max_iter: Cap on EVI sweeps per episode (default 10000).

    Regret guarantee:
        ``O~(sqrt(sp(h*) S A T))`` without prior knowledge of ``sp(h*)`` (Boone &
        Zhang 2024; for the published algorithm, not for this reconstruction).

    References:
        Boone & Zhang, "Achieving Tractable Minimax Optimal Regret in Average
        Reward MDPs", NeurIPS 2024 (arXiv 2406.01234).
    """

    display_name: ClassVar[str] = "PMEVI-DT"
    deviation: ClassVar[str | None] = "reconstructed bias estimator"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_BASE_CONSTRAINTS,
        "span_bound": Interval("real", 0.0, None, closed="neither", allow_inf=True),
        "radius": Options(*PMEVI_REGIONS),
        "mitigate": Boolean(),
    }

    def __init__(self, delta: float = 0.05, span_bound: float = np.inf,
                 radius: str = "weissman", mitigate: bool = True, n_states=None,
                 evi_max_iter: int = 10_000):
        self.delta = delta
        self.span_bound = span_bound
        self.radius = radius
        self.mitigate = mitigate
        self.n_states = n_states
        self.evi_max_iter = evi_max_iter

    def variant_tags(self) -> tuple[str, ...]:
        """Tags for a non-default region, a prior span bound and disabled mitigation."""
        tags: tuple[str, ...] = ()
        if self.radius != "weissman" and self.radius in RADIUS_CODES:
            tags += (f"{self.radius} region",)
        if self.span_bound != np.inf:
            tags += ("span prior",)
        if self.mitigate is False:
            tags += ("no mitigation",)
        return tags

    def make_kernel(self) -> AgentKernel:
        """The optimistic tabular kernel with mitigation and the bias region."""
        return AgentKernel(
            self._hparams(float(self.span_bound), "doubling", mitigate=bool(self.mitigate),
                          bias_estimation=True),
            optimistic_init, optimistic_select, optimistic_update)

    def diagnostics(self) -> dict[str, float]:
        """``switches``, ``optimistic_gain`` and ``projections``.

        ``projections`` counts the plans whose last sweep was changed by the
        projection onto the bias region.
        """
        return {**super().diagnostics(), "projections": float(self.state_.clips[0])}
