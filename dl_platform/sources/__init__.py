"""Landing -> raw: the source registry, contracts, quarantine and the raw asset factory."""
