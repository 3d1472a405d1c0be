"""Research extracts: opt-outs, pseudonymisation, split files, disclosure control, review."""
