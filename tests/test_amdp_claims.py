"""Claims of the average-reward MDP experiments, asserted at the reduced scale.

The claims (regret orderings of the optimistic baselines on RiverSwim, sublinear and linear
slopes, optimistic gains above J*, switch counts, where LOOP-Tab's span truncation binds;
LOOP-Lin and LOOP-Mix against uniform play, their switch counts and optimistic gains) are
data in ``banditlab/benchmarks/amdp_e1.toml``, ``amdp_e2.toml`` and
``amdp_e2_mixture.toml``; these tests run the experiments at their reduced scale and assert
them (:func:`banditlab.testing.claims.assert_claims`).
"""

import pytest

from banditlab.testing.claims import assert_claims


@pytest.mark.parametrize("name", ["amdp_e1", "amdp_e2", "amdp_e2_mixture"])
def test_amdp_claims_hold_at_reduced_scale(name):
    results = assert_claims(name, scale="reduced")
    assert sum(r.verdict == "pass" for r in results) >= 3
