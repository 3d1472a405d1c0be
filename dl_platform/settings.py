"""Environment settings, read once.

Every environment variable the platform honours is read here and nowhere else, so a
reader can see the whole configuration surface in one place. Secrets have no default.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DEFAULT_SOURCES_FILE = PACKAGE_DIR / "config" / "sources.yml"
DEFAULT_PROJECTS_DIR = PACKAGE_DIR / "config" / "projects"
DBT_PROJECT_DIR = REPO_DIR / "dbt_project"
# Engines the `warehouse` resource implements; anything else is refused before any work starts.
ENGINES = ("duckdb",)
_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)|\d+(\.\d+)?\s*%", re.IGNORECASE)


class SettingsError(ValueError):
    """An environment variable holds a value the platform cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """The platform's configuration as read from the environment."""

    data_dir: Path
    sources_file: Path
    projects_dir: Path
    engine: str
    duckdb_memory_limit: str
    duckdb_threads: int
    duckdb_max_temp_size: str
    pseudonymisation_key: str | None
    # Record-level truth for the optional accuracy evaluation (quality/linkage_accuracy). No
    # default on purpose: a file lying in the data folder must never be evaluated by accident.
    truth_file: Path | None = None

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def marts_path(self) -> Path:
        return self.data_dir / "marts.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def extracts_dir(self) -> Path:
        return self.data_dir / "extracts"

    @property
    def tmp_dir(self) -> Path:
        """DuckDB spill directory: under the data dir, never the working directory."""
        return self.data_dir / "tmp"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / ".secrets"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


def _check(env: dict[str, str]) -> None:
    """Refuse unusable values at once: an unknown engine used to run the demo for two minutes
    before assets failed one by one."""
    engine = env.get("DL_ENGINE", "duckdb")
    if engine not in ENGINES:
        raise SettingsError(f"DL_ENGINE={engine!r} is not a supported engine (supported: {', '.join(ENGINES)})")
    threads = env.get("DL_DUCKDB_THREADS", "2")
    if not threads.isdigit() or int(threads) < 1:
        raise SettingsError(f"DL_DUCKDB_THREADS={threads!r} must be a whole number of at least 1")
    for name in ("DL_DUCKDB_MEMORY_LIMIT", "DL_DUCKDB_MAX_TEMP_SIZE"):
        if name in env and not _SIZE.fullmatch(env[name].strip()):
            raise SettingsError(f"{name}={env[name]!r} must be a size such as 6GB or 512MB")


@cache
def _load(environ_key: tuple[tuple[str, str], ...]) -> Settings:
    env = dict(environ_key)
    _check(env)
    return Settings(
        data_dir=Path(env.get("DL_DATA_DIR") or "data").expanduser().resolve(),
        sources_file=_path(env, "DL_SOURCES_FILE", DEFAULT_SOURCES_FILE),
        projects_dir=_path(env, "DL_PROJECTS_DIR", DEFAULT_PROJECTS_DIR),
        engine=env.get("DL_ENGINE", "duckdb"),
        duckdb_memory_limit=env.get("DL_DUCKDB_MEMORY_LIMIT", "6GB"),
        duckdb_threads=int(env.get("DL_DUCKDB_THREADS", "2")),
        duckdb_max_temp_size=env.get("DL_DUCKDB_MAX_TEMP_SIZE", "40GB"),
        pseudonymisation_key=env.get("DL_PSEUDONYMISATION_KEY") or None,
        truth_file=Path(env["DL_TRUTH_FILE"]).expanduser().resolve() if env.get("DL_TRUTH_FILE") else None,
    )


_KEYS = (
    "DL_DATA_DIR",
    "DL_SOURCES_FILE",
    "DL_PROJECTS_DIR",
    "DL_ENGINE",
    "DL_DUCKDB_MEMORY_LIMIT",
    "DL_DUCKDB_THREADS",
    "DL_DUCKDB_MAX_TEMP_SIZE",
    "DL_PSEUDONYMISATION_KEY",
    "DL_TRUTH_FILE",
)


def get_settings() -> Settings:
    """Current settings; re-read when the relevant environment changes (tests set it).

    Raises:
        SettingsError: a variable holds an unusable value (named in the message).
    """
    return _load(tuple((k, os.environ[k]) for k in _KEYS if k in os.environ))
