"""Print the import graph of the banditlab package and its cycles.

Parses every module (``banditlab``, ``banditlab.envs``, ``banditlab.agents``) with
``ast``, counting module-level and function-level imports; the only edges exempt
are the registry's loading of the built-in registrations. Same library function
as ``tests/test_imports.py``. Run:  python benchmarks/import_cycles.py
(exit status 1 when there is a cycle).
"""

from __future__ import annotations

import sys

from banditlab.testing.imports import main

if __name__ == "__main__":
    sys.exit(main())
