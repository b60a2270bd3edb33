"""banditlab.planning."""
