"""banditlab environments, one sub-package per research family.

Each family package (``banditlab.envs.<family>``) declares its family with
:func:`banditlab.registry.register_family` and registers its environments in
Gymnasium's registry as ``banditlab/<Name>-v<N>`` in its own ``__init__.py``.
Importing :mod:`banditlab.envs` imports every family in :data:`FAMILIES`.
"""

if __name__ != "banditlab.envs":  # pragma: no cover - guard against the repo-root shadow
    raise ImportError(
        f"this folder must be imported as 'banditlab.envs', not {__name__!r}: install the "
        "package (pip install -e .) and do not run Python from the repository root"
    )

import importlib

#: The built-in families, in catalogue order.
FAMILIES = ("classic", "lsd", "sor", "sea", "advmdp", "amdp", "active")

for _family in FAMILIES:
    importlib.import_module(f"banditlab.envs.{_family}")
