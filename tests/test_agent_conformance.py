"""Conformance: every registered agent passes every applicable agent check (one case per check)."""

from banditlab.testing import all_agent_specs, numba_warm, parametrize_with_checks  # noqa: F401


@parametrize_with_checks(all_agent_specs())
def test_agent_conformance(subject, check, numba_warm):  # noqa: F811
    check(subject)
