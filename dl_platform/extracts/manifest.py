"""Versioned extract folders: `$DL_DATA_DIR/extracts/<project>/v<N>/`, written once, frozen on release.

A build is written to a staging folder first and then renamed into a new version, so no
existing version folder is ever written into. If the newest version already holds exactly
the same content (same files, spec and opt-out list), the rerun reuses it instead of making a
copy. A released version carries `release.json` and read-only files; it is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dl_platform.sources.reader import file_sha256

RELEASE_MARKER = "release.json"
_VERSION = re.compile(r"^v(\d+)$")


class ReleasedVersionError(RuntimeError):
    """An attempt to write into a released (immutable) version."""


def versions(project_dir: Path) -> list[Path]:
    """Existing version folders, oldest first."""
    if not project_dir.is_dir():
        return []
    found = [p for p in project_dir.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda p: int(_VERSION.match(p.name).group(1)))


def is_released(version_dir: Path) -> bool:
    return (version_dir / RELEASE_MARKER).exists()


def guard_writable(version_dir: Path) -> None:
    """Refuse any write into a released version."""
    if is_released(version_dir):
        raise ReleasedVersionError(
            f"{version_dir} is released and immutable; a change must make a new version"
        )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def _dictionary_md(dictionary: dict[str, Any]) -> str:
    lines = [f"# Data dictionary: {dictionary['project']} ({dictionary['title']})", ""]
    for name, body in dictionary["files"].items():
        lines += [
            f"## {name} ({body['rows']} rows)",
            "",
            body["description"],
            "",
            "| column | type | treatment |",
            "|---|---|---|",
        ]
        lines += [f"| {c['name']} | {c['type']} | {c['treatment']} |" for c in body["columns"]]
        lines.append("")
    return "\n".join(lines)


def data_dictionary(
    project: str,
    title: str,
    files: dict[str, pd.DataFrame],
    treatments: dict[str, dict[str, str]],
    descriptions: dict[str, str],
) -> dict[str, Any]:
    """Columns, types and the treatment each underwent (pseudonymised, encrypted, year...), per file."""
    return {
        "project": project,
        "title": title,
        "files": {
            name: {
                "rows": len(frame),
                "description": descriptions.get(name, ""),
                "columns": [
                    {
                        "name": c,
                        "type": str(frame[c].dtype),
                        "treatment": treatments.get(name, {}).get(c, "as in marts"),
                    }
                    for c in frame.columns
                ],
            }
            for name, frame in files.items()
        },
    }


def write_version(
    project_dir: Path,
    files: dict[str, pd.DataFrame],
    dictionary: dict[str, Any],
    manifest: dict[str, Any],
) -> tuple[Path, bool]:
    """Write one build as a new version (or reuse the newest if its content is identical).

    Args:
        project_dir: `$DL_DATA_DIR/extracts/<project>`.
        files: Parquet files to write, by stem (e.g. `file2_payload`).
        dictionary: The data dictionary (written as JSON and Markdown).
        manifest: Fields for manifest.json (spec hash, opt-out version, counts...).

    Returns:
        (the version folder, True if it was newly written).
    """
    project_dir.mkdir(parents=True, exist_ok=True)
    staging = project_dir / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    checksums, rows = {}, {}
    for stem, frame in files.items():
        path = staging / f"{stem}.parquet"
        write_parquet(frame, path)
        checksums[path.name], rows[path.name] = file_sha256(path), len(frame)
    content = hashlib.sha256(
        json.dumps(
            {
                "files": checksums,
                "spec_hash": manifest.get("spec_hash"),
                "optouts": manifest.get("optout_list_version", {}).get("opt_out_set_sha256"),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    existing = versions(project_dir)
    if existing:
        previous = (
            json.loads((existing[-1] / "manifest.json").read_text())
            if (existing[-1] / "manifest.json").exists()
            else {}
        )
        if previous.get("content_sha256") == content:
            shutil.rmtree(staging)
            return existing[-1], False
    number = int(_VERSION.match(existing[-1].name).group(1)) + 1 if existing else 1
    target = project_dir / f"v{number}"
    (staging / "data_dictionary.json").write_text(json.dumps(dictionary, indent=2))
    (staging / "data_dictionary.md").write_text(_dictionary_md(dictionary))
    full = {
        **manifest,
        "version": target.name,
        "content_sha256": content,
        "row_counts": rows,
        "sha256": checksums,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (staging / "manifest.json").write_text(json.dumps(full, indent=2, default=str))
    staging.rename(target)
    return target, True


def add_file(version_dir: Path, name: str, text: str) -> None:
    """Add a text file (e.g. the disclosure report) to an unreleased version."""
    guard_writable(version_dir)
    (version_dir / name).write_text(text)


def freeze(version_dir: Path, release_info: dict[str, Any]) -> None:
    """Mark a version released: write release.json and make every file read-only."""
    guard_writable(version_dir)
    (version_dir / RELEASE_MARKER).write_text(json.dumps(release_info, indent=2, default=str))
    for path in version_dir.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
