"""banditlab.data."""
