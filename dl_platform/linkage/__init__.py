"""The Master Person Index: an MPS-style cascade with Splink, diagnostics and a golden record."""
