"""The papers banditlab reproduces, and which shipped experiments belong to each.

A paper is a key (``"laforgue2022"``), a citation and the family it belongs to. Its
experiments are data: every shipped experiment file (``banditlab/benchmarks/*.toml``)
whose top-level ``paper`` equals the key, in name order. ``banditlab reproduce PAPER``
(:mod:`banditlab.reproduce`) runs them and evaluates their ``[[claims]]``
(:mod:`banditlab.claims`).

Third-party packages may add their own papers with :func:`register_paper` before
loading experiment files that name them.

This module imports no other banditlab module except :mod:`banditlab.errors`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from banditlab.errors import BanditlabError

__all__ = ["Paper", "PAPERS", "register_paper", "paper", "paper_keys", "paper_experiments",
           "shipped_experiments"]


@dataclass(frozen=True)
class Paper:
    """A paper (or, for ``classic``, a body of textbook results) and its family.

    Attributes:
        key: Short key used in experiment files (``paper = "<key>"``).
        authors: Authors as cited, e.g. ``"Laforgue, P., Clerici, G., ..."``.
        title: Title.
        venue: Venue (conference, journal or preprint server).
        year: Publication year.
        family: The banditlab family it belongs to.
        description: One sentence: what banditlab reproduces from it.
    """

    key: str
    authors: str
    title: str
    venue: str
    year: int
    family: str
    description: str = ""

    @property
    def citation(self) -> str:
        """The citation, ``Authors (year). "Title." Venue.``."""
        return f'{self.authors} ({self.year}). "{self.title}." {self.venue}.'


PAPERS: dict[str, Paper] = {}
"""Registered papers by key, in registration order."""


def register_paper(p: Paper) -> None:
    """Register a paper (idempotent for an identical record).

    Raises:
        BanditlabError: When another paper is registered under the same key.
    """
    if not isinstance(p, Paper):
        raise BanditlabError(f"paper: expected a Paper, got {p!r}")
    if p.key in PAPERS and PAPERS[p.key] != p:
        raise BanditlabError(f"paper: key {p.key!r} is already registered")
    PAPERS[p.key] = p


for _p in (
    Paper("classic", "Auer, P., Cesa-Bianchi, N., Fischer, P.",
          "Finite-time Analysis of the Multiarmed Bandit Problem", "Machine Learning 47",
          2002, "classic",
          "Textbook stochastic-bandit baselines (UCB1 and friends; see also Lattimore and "
          "Szepesvari, Bandit Algorithms, 2020) on Bernoulli and Gaussian bandits."),
    Paper("laforgue2022", "Laforgue, P., Clerici, G., Cesa-Bianchi, N., Gilad-Bachrach, R.",
          "A Last Switch Dependent Analysis of Satiation and Seasonality in Bandits",
          "AISTATS 2022", 2022, "lsd",
          "Last-switch-dependent bandits: ISI-CombUCB1 against the greedy and optimal "
          "benchmarks."),
    Paper("khodak2024", "Khodak, M., Chow, E., Balcan, M.-F., Talwalkar, A.",
          "Learning to Relax: Setting Solver Parameters Across a Sequence of Linear System "
          "Instances", "ICLR 2024", 2024, "sor",
          "Choosing the SOR relaxation parameter online across a sequence of linear systems."),
    Paper("chen2024", "Chen, S., Zhang, Y.-J., Tu, W.-W., Zhao, P., Zhang, L.",
          "Optimistic Online Mirror Descent for Bridging Stochastic and Adversarial Online "
          "Convex Optimization", "Journal of Machine Learning Research 25 (ICML 2023)", 2024,
          "sea",
          "Regret of optimistic online mirror descent between stochastic and adversarial "
          "convex losses."),
    Paper("dai2023", "Dai, Y., Luo, H., Wei, C.-Y., Zimmert, J.",
          "Refined Regret for Adversarial MDPs with Linear Function Approximation",
          "ICML 2023", 2023, "advmdp",
          "Policy optimisation in adversarial linear-Q MDPs."),
    Paper("he2024", "He, J., Zhong, H., Yang, Z.",
          "Sample-efficient Learning of Infinite-horizon Average-reward MDPs with General "
          "Function Approximation", "ICLR 2024", 2024, "amdp",
          "Optimistic average-reward learning (LOOP) against UCRL2 and PSRL on tabular and "
          "linear MDPs."),
    Paper("zhang2020", "Zhang, J., Jain, L., Jamieson, K.",
          "Learning to Actively Learn: A Robust Approach", "arXiv 2010.15382", 2020, "active",
          "Learned active-identification policies against adaptive and static baselines."),
):
    register_paper(_p)


def paper_keys() -> list[str]:
    """Keys of every registered paper, in registration order."""
    return list(PAPERS)


def paper(key: str) -> Paper:
    """The :class:`Paper` of ``key``.

    Raises:
        BanditlabError: One line listing the known keys.
    """
    if key not in PAPERS:
        raise BanditlabError(f"paper: unknown paper {key!r} (known: {', '.join(PAPERS)})")
    return PAPERS[key]


def shipped_experiments() -> list[Path]:
    """Every experiment file shipped in ``banditlab.benchmarks``, sorted by name."""
    root = resources.files("banditlab.benchmarks")
    return sorted((Path(str(x)) for x in root.iterdir() if x.name.endswith(".toml")),
                  key=lambda p: p.stem)


def paper_experiments(key: str) -> list[Path]:
    """The shipped experiment files whose top-level ``paper`` is ``key``, in name order.

    Raises:
        BanditlabError: For an unknown key, or a shipped file that is not valid TOML.
    """
    paper(key)
    out = []
    for path in shipped_experiments():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise BanditlabError(f"experiment file {path.name}: malformed TOML: {exc}") from None
        if data.get("paper") == key:
            out.append(path)
    return out
