"""Speed and memory benchmarks (`kb bench ...`): each prints its same-run baseline and ratio."""
