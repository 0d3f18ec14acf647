"""Benchmarks: pytest-benchmark scenarios and the side-by-side comparison."""
