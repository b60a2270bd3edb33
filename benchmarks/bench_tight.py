"""Every family's fused path against a hand-written tight loop, in one table.

Runs the cases of ``bench_tight_<family>.py`` (classic, lsd, sea, amdp, sor, advmdp) with
the machinery of ``_tight.py``: for each (env, agent) pair the harness's fused path and a
hand-written Numba loop of the same env and agent start from the same instance and
generators, must end with identical cumulative reward and expected reward, and are timed
side by side (best of ``--repeats``, compilation excluded). The last column says whether
the ratio meets the case's target.

Run:  python benchmarks/bench_tight.py [--repeats 5] [--scale 1.0] [--family sea]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tight import HEADER, measure  # noqa: E402

FAMILIES = ("classic", "lsd", "sea", "amdp", "sor", "advmdp")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--scale", type=float, default=1.0, help="multiply every case's steps")
    p.add_argument("--family", action="append", choices=FAMILIES,
                   help="only these families (repeatable; default all)")
    a = p.parse_args()
    print(HEADER)
    below = []
    for family in a.family or FAMILIES:
        module = importlib.import_module(f"bench_tight_{family}")
        for case in module.CASES:
            row = measure(case, repeats=a.repeats, steps=max(1000, int(case.steps * a.scale)))
            print(row.line(), flush=True)
            if case.target is not None and row.ratio < case.target:
                below.append(case.name)
    print("trajectories identical in every case (reward and expected reward at the end)")
    print("every ratio meets its target" if not below else f"below target: {', '.join(below)}")


if __name__ == "__main__":
    main()
