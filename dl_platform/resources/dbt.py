"""The dbt resource: dbt-duckdb on the warehouse file, via dagster-dbt.

The dbt profile reads the warehouse path and DuckDB limits from environment
variables that `dbt_env()` derives from settings, so dbt and Python agree on one file.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dl_platform.settings import DBT_PROJECT_DIR, get_settings

# dbt invocation folders kept under target/ (the last few runs, for debugging a failure).
KEEP_TARGETS = 12
RECENT_S = 600

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_env() -> dict[str, str]:
    """Environment for dbt's process: where the warehouse is and how much it may use."""
    s = get_settings()
    s.tmp_dir.mkdir(parents=True, exist_ok=True)
    return {
        "DL_WAREHOUSE_PATH": str(s.warehouse_path),
        "DL_DUCKDB_MEMORY_LIMIT": s.duckdb_memory_limit,
        "DL_DUCKDB_THREADS": str(s.duckdb_threads),
        "DL_DUCKDB_TEMP_DIR": str(s.tmp_dir),
        "DL_DUCKDB_MAX_TEMP_SIZE": s.duckdb_max_temp_size,
    }


def apply_dbt_env() -> None:
    """Export `dbt_env()` into this process so dbt subprocesses inherit it."""
    os.environ.update(dbt_env())


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the project's .venv, not on PATH when the
    venv is not activated), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def prune_dbt_targets(target_dir: Path | None = None, keep: int = KEEP_TARGETS) -> int:
    """Delete all but the newest `keep` per-invocation folders dagster-dbt leaves in `target/`.

    Each dbt invocation writes its own `target/<asset>-<run>-<id>/` (manifest, run results,
    compiled SQL): 225 MB after a day of runs. Top-level files (the manifest the code location
    loads) are never touched, nor a folder written in the last `RECENT_S` seconds.

    Returns:
        How many folders were removed.
    """
    target_dir = target_dir or DBT_PROJECT_DIR / "target"
    if not target_dir.is_dir():
        return 0
    folders = sorted((p for p in target_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    cutoff = time.time() - RECENT_S
    removed = 0
    for folder in folders[keep:]:
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def build_dbt_resource() -> DbtCliResource:
    apply_dbt_env()
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
