"""Conformance: every registered env passes every applicable env check (one case per check)."""

from banditlab.testing import all_env_specs, numba_warm, parametrize_with_checks  # noqa: F401


@parametrize_with_checks(all_env_specs())
def test_env_conformance(subject, check, numba_warm):  # noqa: F811
    check(subject)
