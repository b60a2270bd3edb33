"""banditlab.benchmarks."""
