"""banditlab: a research environment for bandits and online learning.

Public API (imported lazily, so ``import banditlab`` and ``banditlab --help``
stay fast and compile nothing):

* :func:`run`, :func:`run_many`, :func:`run_experiment`, :func:`load_results`
* :func:`make_agent`, :func:`register_agent`, :func:`make_env`
* :func:`check_env`, :func:`check_agent`
* :class:`Experiment`
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "run": "banditlab.harness",
    "run_many": "banditlab.harness",
    "run_experiment": "banditlab.harness",
    "RunResult": "banditlab.results",
    "Results": "banditlab.results",
    "load_results": "banditlab.results",
    "Experiment": "banditlab.experiment",
    "load_experiment": "banditlab.experiment",
    "make_agent": "banditlab.registry",
    "register_agent": "banditlab.registry",
    "make_env": "banditlab.registry",
    "check_env": "banditlab.checks",
    "check_agent": "banditlab.checks",
    "Agent": "banditlab.core",
    "KernelAgent": "banditlab.core",
    "KernelEnv": "banditlab.core",
    "Oracle": "banditlab.core",
    "RegretKind": "banditlab.core",
    "BanditlabError": "banditlab.core",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'banditlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
