"""banditlab agents, one sub-package per research family.

Each family package (``banditlab.agents.<family>``) registers its agents with
:func:`banditlab.registry.register_agent` in its own ``__init__.py``. Importing
:mod:`banditlab.agents` imports every family in :data:`FAMILIES`.
"""

if __name__ != "banditlab.agents":  # pragma: no cover - guard against the repo-root shadow
    raise ImportError(
        f"this folder must be imported as 'banditlab.agents', not {__name__!r}: install the "
        "package (pip install -e .) and do not run Python from the repository root"
    )

import importlib

from banditlab.envs import FAMILIES

for _family in FAMILIES:
    importlib.import_module(f"banditlab.agents.{_family}")
