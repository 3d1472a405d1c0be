"""Assemble a built extract into a version folder, assess its risks and register it for review.

The File 1 / File 2 assets leave their frames in `<project>/_build/` (never released as such);
this step protects the aggregates, runs the risk assessment, writes `v<N>/` with the data
dictionary and manifest, and records the version and its flags in the review tables.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dl_platform.extracts import build, manifest, review, risk
from dl_platform.extracts.coarsen import RULE_LABELS
from dl_platform.extracts.disclosure import released_view
from dl_platform.extracts.pseudonymise import project_key
from dl_platform.extracts.spec import ProjectSpec

BUILD_DIR = "_build"
REPORT = "build_report.json"
DESCRIPTIONS = {
    "file1_identifiers": "File 1: one row per cohort member: study_id, identifiers from the golden record and "
    "permission flags. For the trusted third party only; never sent with File 2.",
    "file2_payload": "File 2: one row per cohort member (study_id), de-identified person variables, "
    "coarsened and k-anonymous on the quasi-identifiers.",
    "aggregates": "Aggregates after disclosure control: one row per cell (margins 'All'); value is null where "
    "suppressed, counts rounded; status says which.",
}


@dataclass
class PackageResult:
    """Where a build went and what the reviewer must look at."""

    version_dir: Path
    created: bool
    status: str
    flags: list[risk.Flag]
    row_counts: dict[str, int]


def build_dir(project_dir: Path) -> Path:
    path = project_dir / BUILD_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_frames(
    project_dir: Path, frames: dict[str, pd.DataFrame], report: dict[str, Any], part: str
) -> None:
    """Leave a step's frames and report in the build folder for the packaging step."""
    folder = build_dir(project_dir)
    for stem, frame in frames.items():
        manifest.write_parquet(frame, folder / f"{stem}.parquet")
    reports = json.loads((folder / REPORT).read_text()) if (folder / REPORT).exists() else {}
    reports[part] = report
    (folder / REPORT).write_text(json.dumps(reports, indent=2, default=str))


def clear_part(project_dir: Path, prefix: str) -> None:
    """Remove a step's previous frames (a dataset dropped from the spec must not linger)."""
    for path in build_dir(project_dir).glob(f"{prefix}*.parquet"):
        path.unlink()


def package(spec: ProjectSpec, project_dir: Path, conn: Any) -> PackageResult:
    """Protect, assess, write the version folder and register it.

    Args:
        spec: The project.
        project_dir: `$DL_DATA_DIR/extracts/<project>`.
        conn: A warehouse writer connection (review tables).

    Returns:
        The version written (or reused) and its flags.
    """
    folder = build_dir(project_dir)
    reports = json.loads((folder / REPORT).read_text())
    frames = {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
    persons = frames.pop("analysis_persons")
    cohort_years = frames.pop("cohort_years")
    frames.pop("cohort")
    aggregates = build.build_aggregates(spec, persons)
    released = {k: v for k, v in frames.items() if k != "file1_identifiers" or spec.file1_fields}
    released["aggregates"] = released_view(aggregates)
    flags = risk.assess(
        cohort_size=reports["cohort"]["cohort_size"],
        threshold=spec.disclosure["threshold"],
        aggregates=aggregates,
        kanon_report=reports["file2"]["kanonymity"],
        persons=cohort_years,
        extreme_age=spec.disclosure["extreme_age"],
        on=spec.period_end,
        payloads={k: v for k, v in frames.items() if k.startswith("file2_")},
        file1_rows=len(frames.get("file1_identifiers", [])) if spec.file1_fields else 0,
    )
    treatments = {
        **reports["file2"]["treatments"],
        **reports.get("file1", {}).get("treatments", {}),
    }
    dictionary = manifest.data_dictionary(
        spec.id,
        spec.title,
        released,
        treatments,
        {
            **DESCRIPTIONS,
            **{
                k: f"File 2 events: {k[6:]}, one row per record in the period, keyed by study_id"
                for k in released
                if k.startswith("file2_") and k != "file2_payload"
            },
        },
    )
    optout_version = reports["cohort"]["optout_list_version"]
    fields = {
        "project": spec.id,
        "title": spec.title,
        "legal_basis": spec.legal_basis,
        "spec_hash": spec.spec_hash,
        "period": [str(spec.period_start), str(spec.period_end)],
        "optout_list_version": optout_version,
        "exclusions": {"cohort": reports["cohort"]["excluded"], **reports["file2"]["excluded"]},
        "kanonymity": reports["file2"]["kanonymity"],
        "disclosure_rules": spec.disclosure,
        "flags": [f.as_dict() for f in flags],
        "pseudonymisation": "study_id = HMAC-SHA256(HMAC-SHA256(platform key, 'study-id:'+project), person_id)",
    }
    version_dir, created = manifest.write_version(project_dir, released, dictionary, fields)
    status = review.register_version(
        conn,
        project=spec.id,
        version=version_dir.name,
        spec_hash=spec.spec_hash,
        content_sha256=json.loads((version_dir / "manifest.json").read_text())["content_sha256"],
        optout_version=optout_version,
        path=str(version_dir),
        flags=flags,
    )
    return PackageResult(
        version_dir, created, status, flags, {k: len(v) for k, v in released.items()}
    )


def stage_cohort(
    conn: Any, spec: ProjectSpec, platform_key: str | None, project_dir: Path
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Step 1: cohort after opt-outs (kept in the build folder with person_id; never released)."""
    cohort, excluded, version = build.build_cohort(conn, spec, project_key(platform_key, spec.id))
    shutil.rmtree(project_dir / BUILD_DIR, ignore_errors=True)
    report = {"cohort_size": len(cohort), "excluded": excluded, "optout_list_version": version}
    save_frames(
        project_dir, {"cohort": cohort, "cohort_years": cohort[["year_of_birth"]]}, report, "cohort"
    )
    return cohort, report


def _cohort(project_dir: Path) -> pd.DataFrame:
    path = build_dir(project_dir) / "cohort.parquet"
    if not path.exists():
        raise build.ExtractInputError(
            f"{path} is missing: materialise the project's cohort asset first"
        )
    return pd.read_parquet(path)


def stage_file1(conn: Any, spec: ProjectSpec, project_dir: Path) -> pd.DataFrame:
    """Step 2: File 1 (identifiers) into the build folder."""
    file1 = build.build_file1(conn, spec, _cohort(project_dir))
    treatments = {
        "file1_identifiers": {
            "study_id": RULE_LABELS["pseudonymised"],
            **{c: "identifier from the golden record (File 1 only)" for c in spec.file1_fields},
        }
    }
    save_frames(
        project_dir,
        {"file1_identifiers": file1},
        {"rows": len(file1), "treatments": treatments},
        "file1",
    )
    return file1


def stage_file2(
    conn: Any, spec: ProjectSpec, platform_key: str | None, project_dir: Path
) -> build.File2Build:
    """Step 3: File 2 frames (and the pre-k-anonymity person frame for aggregates) into the build folder."""
    clear_part(project_dir, "file2_")
    result = build.build_file2(conn, spec, _cohort(project_dir), project_key(platform_key, spec.id))
    report = {
        "kanonymity": result.kanon_report,
        "treatments": result.treatments,
        "excluded": result.excluded,
        "rows": {k: len(v) for k, v in result.files.items()},
    }
    save_frames(
        project_dir, {**result.files, "analysis_persons": result.analysis_persons}, report, "file2"
    )
    return result


def run_extract(
    conn: Any, spec: ProjectSpec, platform_key: str | None, extracts_dir: Path
) -> PackageResult:
    """The whole extract in one call (what the assets do step by step)."""
    project_dir = extracts_dir / spec.id
    stage_cohort(conn, spec, platform_key, project_dir)
    stage_file1(conn, spec, project_dir)
    stage_file2(conn, spec, platform_key, project_dir)
    return package(spec, project_dir, conn)
