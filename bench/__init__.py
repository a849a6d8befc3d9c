"""Benchmarks: each measures one thing against a baseline in the same run and reports the ratio."""
