"""Benchmark harness for shopapi (`make bench`): scripts that print figures, never timed tests."""
