"""The fused loop allocates nothing per step, for every kernel env x kernel agent pair.

:func:`banditlab.testing.allocations.allocations_per_step` runs each pair of the parity plan
on the fused path at two run lengths with one checkpoint and counts Numba runtime (NRT)
allocations; what does not cancel is paid per step (per episode for episodic envs). The
counts are exact, so the assertion is ``== 0``. The per-family pair counts are printed and
asserted against the parity plan, so a family cannot drop out of this test unnoticed.
"""

from __future__ import annotations

import pytest

from banditlab.testing.allocations import allocations_per_step
from banditlab.testing.parity import parity_plan

PLAN = parity_plan()
PAIRS = PLAN.pairs
MEASURED: dict[str, list[float]] = {}


@pytest.mark.parametrize(("env_id", "agent_id"), PAIRS, ids=[f"{e}|{a}" for e, a in PAIRS])
def test_fused_loop_allocates_nothing_per_step(env_id, agent_id):
    count = allocations_per_step(env_id, agent_id, short=50, long=150)
    MEASURED.setdefault(PLAN.pair_family[(env_id, agent_id)], []).append(count.per_step)
    assert count.per_step == 0.0, count


def test_allocation_coverage_per_family(capsys):
    """Runs after the pairs above: every pair of every family was measured, and at 0."""
    if len(MEASURED) == 0:  # run alone (-k): measure a few pairs per family here
        for (env_id, agent_id) in PAIRS:
            fam = PLAN.pair_family[(env_id, agent_id)]
            if len(MEASURED.get(fam, [])) < 2:
                MEASURED.setdefault(fam, []).append(
                    allocations_per_step(env_id, agent_id, short=50, long=150).per_step)
    counts = PLAN.counts()
    with capsys.disabled():
        print("\nallocation-free pairs per family (measured / in the parity plan):")
        for fam in sorted(counts):
            got = MEASURED.get(fam, [])
            print(f"  {fam:8s} {sum(v == 0.0 for v in got):4d} / {counts[fam]:4d}")
    assert set(MEASURED) == set(counts), (sorted(MEASURED), sorted(counts))
    assert all(v == 0.0 for vals in MEASURED.values() for v in vals)
    for fam in ("classic", "lsd", "sea", "amdp", "advmdp"):
        assert counts[fam] > 0 and MEASURED[fam], fam
