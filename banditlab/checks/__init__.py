"""banditlab.checks."""
