"""Benchmarks a learner can run: ``labkit bench kube-proxy`` (rule programming, first-packet latency)."""
