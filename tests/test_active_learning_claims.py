"""Claims of the active-identification experiment files, asserted at reduced scale.

The claims live in ``banditlab/benchmarks/active_*.toml`` (``[[claims]]``); these tests run
the experiments and assert them (:func:`banditlab.testing.claims.assert_claims`).
"""

from __future__ import annotations

from banditlab.testing.claims import assert_claims


def test_thresholds_claims_at_reduced_scale():
    """SGBS and information-gain greedy identify thresholds more often than uniform."""
    results = assert_claims("active_e1_thresholds", scale="reduced")
    assert {r.id for r in results if r.verdict == "pass"} == {"sgbs_above_uniform",
                                                             "info_gain_above_uniform"}


def test_q20_claims_at_reduced_scale():
    """20 Questions: information gain and abstaining SGBS above uniform (the first 40 persons);
    the learned policy against uniform, SGBS and information gain on held-out persons."""
    results = assert_claims("active_e2_q20", scale="reduced")
    assert {r.id for r in results if r.verdict == "pass"} >= {
        "q20_info_gain_and_abstaining_sgbs_above_uniform", "ltal_beats_uniform_t20",
        "ltal_beats_sgbs_t20", "ltal_near_info_gain_t20"}
