"""Test-wide safety: never touch ./data; every test session gets its own DL_DATA_DIR."""

import os
import tempfile

# Set before any dl_platform import reads settings: tests must not write the user's ./data.
_SESSION_DIR = tempfile.mkdtemp(prefix="dl_test_")
os.environ.setdefault("DL_DATA_DIR", os.path.join(_SESSION_DIR, "data"))
os.environ.setdefault("DL_PSEUDONYMISATION_KEY", "test-only-key-not-secret")
os.environ.setdefault("DL_DUCKDB_MEMORY_LIMIT", "2GB")
