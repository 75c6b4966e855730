"""Offline evaluation: av-benchmark formulas on features that install offline (YAMNet, trained evaluators)."""
