"""The dbt manifest Dagster builds its dbt assets from, parsed on demand.

A fresh clone has no `dbt_project/target/manifest.json`, and an edited model makes an old one
wrong; either way the code location must still load without a manual `dbt parse`. So the
manifest is re-parsed whenever it is missing or older than any project file.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

from dl_platform.resources.dbt import dbt_env, dbt_executable
from dl_platform.settings import DBT_PROJECT_DIR

# What a manifest is derived from; a change to any of these makes it stale.
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "target" / "manifest.json"


def newest_input_mtime(project_dir: Path = DBT_PROJECT_DIR) -> float:
    """Latest modification time of any file the manifest depends on."""
    newest = 0.0
    for name in PROJECT_INPUTS:
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    newest = max(newest, child.stat().st_mtime)
    return newest


def manifest_is_stale(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    path = manifest_path(project_dir)
    return not path.exists() or path.stat().st_mtime < newest_input_mtime(project_dir)


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR, dbt_vars: str | None = None) -> Path:
    """Path of an up-to-date manifest.json, running `dbt parse` first if needed.

    Args:
        project_dir: the dbt project folder.
        dbt_vars: the `--vars` JSON runs will use; parsing with the same vars (and profile)
            lets each run's dbt reuse the saved parse instead of parsing the project again.

    Returns:
        The manifest path.

    Raises:
        RuntimeError: dbt parse failed (its output is included: it names files, never data).
    """
    path = manifest_path(project_dir)
    if not manifest_is_stale(project_dir):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two processes loading the code location at once (UI + a test) parse one at a time.
    with open(path.parent / ".parse.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if manifest_is_stale(project_dir):
                completed = subprocess.run(
                    [dbt_executable(), "parse", "--quiet", *(["--vars", dbt_vars] if dbt_vars else [])],
                    cwd=project_dir,
                    env={**os.environ, **dbt_env()},
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if completed.returncode != 0:
                    raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
                path.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path
