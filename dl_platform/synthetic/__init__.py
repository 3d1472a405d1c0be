"""The synthetic NHS-like population with known truth (`dl-platform synth`)."""
