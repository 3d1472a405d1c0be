"""Release governance: draft -> flagged -> reviewed -> released, with an audit trail.

Tables in the warehouse's `extracts` schema:
- extract_versions: one row per (project, version): status, hashes, opt-out list, released_at.
- flags: the risk assessment's flags per version.
- review_log: append-only audit (who, when, which flag, decision, reason, via cli|dagster).
A flag counts as reviewed when its latest decision is `approve`; a `reject` keeps the
version from release until a later approval. A released version takes no more reviews.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import pandas as pd

from dl_platform.extracts.risk import Flag

DECISIONS = ("approve", "reject")
DDL = (
    "create schema if not exists extracts",
    """create table if not exists extracts.extract_versions (
        project varchar, version varchar, status varchar, spec_hash varchar, content_sha256 varchar,
        optout_version varchar, path varchar, created_at timestamp, released_at timestamp,
        released_by varchar)""",
    """create table if not exists extracts.flags (
        project varchar, version varchar, flag_id varchar, category varchar, object varchar,
        description varchar, count bigint, created_at timestamp)""",
    """create table if not exists extracts.review_log (
        project varchar, version varchar, flag_id varchar, reviewer varchar, decision varchar,
        reason varchar, reviewed_at timestamp, via varchar)""",
)


class ReviewError(ValueError):
    """A review or release request that cannot be honoured; the message says why and what to do."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_tables(conn: Any) -> None:
    """Create the governance tables if absent (writer connections only)."""
    for statement in DDL:
        conn.execute(statement)


def tables_exist(conn: Any) -> bool:
    """Whether the governance tables exist (safe on a read-only connection)."""
    rows = conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'extracts' "
        "and table_name in ('extract_versions', 'flags', 'review_log')"
    ).fetchall()
    return rows[0][0] == 3


def latest_version(conn: Any, project: str) -> str | None:
    """The newest registered version of a project, or None."""
    if not tables_exist(conn):
        return None
    rows = conn.execute(
        "select version from extracts.extract_versions where project = ? "
        "order by created_at desc, version desc limit 1",
        [project],
    ).fetchall()
    return rows[0][0] if rows else None


def version_row(conn: Any, project: str, version: str) -> dict[str, Any] | None:
    """The extract_versions row, or None."""
    if not tables_exist(conn):
        return None
    rows = conn.execute(
        "select * from extracts.extract_versions where project = ? and version = ?",
        [project, version],
    ).df()
    return None if rows.empty else rows.iloc[0].to_dict()


def register_version(
    conn: Any,
    *,
    project: str,
    version: str,
    spec_hash: str,
    content_sha256: str,
    optout_version: dict[str, Any],
    path: str,
    flags: list[Flag],
) -> str:
    """Record a new version as draft, attach its flags, and move it to flagged (or reviewed if none).

    A version already registered (a rerun that produced identical content) is left as it is,
    reviews included.

    Returns:
        The version's status.
    """
    ensure_tables(conn)
    existing = version_row(conn, project, version)
    if existing is not None:
        return str(existing["status"])
    now = _now()
    conn.execute(
        "insert into extracts.extract_versions values (?, ?, 'draft', ?, ?, ?, ?, ?, null, null)",
        [project, version, spec_hash, content_sha256, json.dumps(optout_version), path, now],
    )
    for f in flags:
        conn.execute(
            "insert into extracts.flags values (?, ?, ?, ?, ?, ?, ?, ?)",
            [project, version, f.flag_id, f.category, f.object, f.description, f.count, now],
        )
    return _refresh_status(conn, project, version)


def review_state(conn: Any, project: str, version: str) -> pd.DataFrame:
    """Each flag of a version with its latest decision, reviewer, reason and time (null if unreviewed)."""
    if not tables_exist(conn):
        return pd.DataFrame(
            columns=[
                "flag_id",
                "category",
                "description",
                "count",
                "decision",
                "reviewer",
                "reason",
                "reviewed_at",
            ]
        )
    return conn.execute(
        """
        with latest as (
            select *, row_number() over (partition by flag_id order by reviewed_at desc, rowid desc) as rn
            from extracts.review_log where project = ? and version = ?
        )
        select f.flag_id, f.category, f.description, f.count, l.decision, l.reviewer, l.reason, l.reviewed_at
        from extracts.flags f left join latest l on l.flag_id = f.flag_id and l.rn = 1
        where f.project = ? and f.version = ?
        order by f.flag_id
        """,
        [project, version, project, version],
    ).df()


def outstanding(conn: Any, project: str, version: str) -> tuple[list[str], list[str]]:
    """(flags never reviewed, flags whose latest decision is reject)."""
    state = review_state(conn, project, version)
    unreviewed = state.loc[state["decision"].isna(), "flag_id"].tolist()
    rejected = state.loc[state["decision"] == "reject", "flag_id"].tolist()
    return unreviewed, rejected


def _refresh_status(conn: Any, project: str, version: str) -> str:
    row = version_row(conn, project, version)
    if row is None or row["status"] == "released":
        return "released" if row is not None else "missing"
    unreviewed, rejected = outstanding(conn, project, version)
    status = "reviewed" if not unreviewed and not rejected else "flagged"
    conn.execute(
        "update extracts.extract_versions set status = ? where project = ? and version = ?",
        [status, project, version],
    )
    return status


def _require_version(conn: Any, project: str, version: str) -> dict[str, Any]:
    if not tables_exist(conn):
        raise ReviewError(
            f"no extract has been built yet; materialise extracts/{project}/disclosure first"
        )
    row = version_row(conn, project, version)
    if row is None:
        known = conn.execute(
            "select version from extracts.extract_versions where project = ? order by created_at",
            [project],
        ).fetchall()
        raise ReviewError(
            f"{project} has no extract version '{version}' (known: {[v for (v,) in known] or 'none'}); "
            f"materialise extracts/{project}/disclosure first"
        )
    return row


def record_review(
    conn: Any,
    *,
    project: str,
    version: str,
    reviewer: str,
    decision: str,
    reason: str,
    flag_ids: Iterable[str] | None = None,
    via: str = "cli",
) -> list[str]:
    """Record one decision on some (or all, when flag_ids is None) flags of a version.

    Returns:
        The flag ids recorded.

    Raises:
        ReviewError: unknown version or flag, missing reviewer/reason, bad decision, or already released.
    """
    row = _require_version(conn, project, version)
    if row["status"] == "released":
        raise ReviewError(
            f"{project} {version} is already released and immutable; reviews are closed"
        )
    if not reviewer or not reviewer.strip():
        raise ReviewError("a review needs a named reviewer (--reviewer NAME)")
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {DECISIONS}, got '{decision}'")
    if not reason or not reason.strip():
        raise ReviewError("a review needs a reason (--reason TEXT)")
    known = review_state(conn, project, version)["flag_id"].tolist()
    ids = known if flag_ids is None else list(flag_ids)
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise ReviewError(f"{project} {version} has no flag(s) {unknown}; flags are: {known}")
    now = _now()
    for flag_id in ids:
        conn.execute(
            "insert into extracts.review_log values (?, ?, ?, ?, ?, ?, ?, ?)",
            [project, version, flag_id, reviewer.strip(), decision, reason.strip(), now, via],
        )
    _refresh_status(conn, project, version)
    return ids


def release(conn: Any, project: str, version: str, released_by: str) -> dict[str, Any]:
    """Mark a fully reviewed version released (the caller freezes its files).

    Raises:
        ReviewError: while any flag is unreviewed or rejected, naming them and the command to review.
    """
    row = _require_version(conn, project, version)
    if row["status"] == "released":
        return row
    unreviewed, rejected = outstanding(conn, project, version)
    if unreviewed or rejected:
        parts = []
        if unreviewed:
            parts.append(f"{len(unreviewed)} flag(s) not reviewed: {unreviewed}")
        if rejected:
            parts.append(f"{len(rejected)} flag(s) rejected: {rejected}")
        raise ReviewError(
            f"release of {project} {version} refused: "
            + "; ".join(parts)
            + ". Review every flag first: "
            f"`dl-platform review {project} {version} --list`, then `dl-platform review {project} {version} "
            "--flag ID|--all --reviewer NAME --decision approve --reason TEXT` (or the release asset's "
            "launchpad config)."
        )
    conn.execute(
        "update extracts.extract_versions set status = 'released', released_at = ?, released_by = ? "
        "where project = ? and version = ?",
        [_now(), released_by, project, version],
    )
    return version_row(conn, project, version)


def released_extracts(conn: Any) -> pd.DataFrame:
    """Every extract version with status, reviewers and release time (for the governance report).

    Returns:
        Columns project, version, status, reviewers (comma-separated), n_flags, released_at, released_by.
    """
    if not tables_exist(conn):
        return pd.DataFrame(
            columns=[
                "project",
                "version",
                "status",
                "reviewers",
                "n_flags",
                "released_at",
                "released_by",
            ]
        )
    return conn.execute(
        """
        select v.project, v.version, v.status,
               coalesce(string_agg(distinct r.reviewer, ', ' order by r.reviewer), '') as reviewers,
               (select count(*) from extracts.flags f where f.project = v.project and f.version = v.version) as n_flags,
               v.released_at, v.released_by
        from extracts.extract_versions v
        left join extracts.review_log r on r.project = v.project and r.version = v.version
        group by all
        order by v.project, max(v.created_at), v.version
        """
    ).df()
