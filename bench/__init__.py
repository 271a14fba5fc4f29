"""Benchmarks: each figure a ratio against a reference measured in the same run
(docs/performance.md)."""
