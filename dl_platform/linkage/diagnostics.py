"""Linkage statistics for materialisation metadata and reports: counts only, never values.

"Publish matching statistics ahead of results" (GUILD): match rate per source and step,
multiple matches, and how many links a ±delta move of each threshold would change.
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.cascade.bucket import EDGES_KNOWN, EDGES_WITHIN
from dl_platform.linkage.cascade.probabilistic import CANDIDATES
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.inputs import table_columns


def _temp_exists(conn: Any, name: str) -> bool:
    rows = conn.execute("select 1 from duckdb_tables() where table_name = ? and temporary", [name]).fetchall()
    return bool(rows)


def threshold_sensitivity(conn: Any, cfg: LinkageConfig, thresholds: dict[str, float]) -> dict[str, dict[str, int]]:
    """Links gained at threshold - delta and lost at threshold + delta, per probabilistic step.

    Reads this run's temp tables, so call it on the cascade's connection right after the run.

    Args:
        conn: The connection the cascade ran on.
        cfg: The sensitivity delta.
        thresholds: The threshold each step used (`probabilistic`, `bucket`).

    Returns:
        {"probabilistic": {...}, "bucket": {...}} with gained_at_lower / lost_at_higher counts.
    """
    d = cfg.sensitivity_delta
    out: dict[str, dict[str, int]] = {}
    t = thresholds.get("probabilistic", 0.5)
    if _temp_exists(conn, CANDIDATES) and "match_probability" in _columns(conn, CANDIDATES):
        gained, lost = conn.execute(
            f"""select count(*) filter (where match_probability >= {t - d} and match_probability < {t}),
                       count(*) filter (where match_probability >= {t} and match_probability < {t + d})
                from {CANDIDATES}"""
        ).fetchall()[0]
        out["probabilistic"] = {"gained_at_lower": int(gained), "lost_at_higher": int(lost)}
    t = thresholds.get("bucket", 0.5)
    if _temp_exists(conn, EDGES_WITHIN):
        known = f" union all select match_probability from {EDGES_KNOWN}" if _temp_exists(conn, EDGES_KNOWN) else ""
        gained, lost = conn.execute(
            f"""select count(*) filter (where match_probability >= {t - d} and match_probability < {t}),
                       count(*) filter (where match_probability >= {t} and match_probability < {min(t + d, 1.0)})
                from (select match_probability from {EDGES_WITHIN}{known})"""
        ).fetchall()[0]
        out["bucket_edges"] = {"gained_at_lower": int(gained), "lost_at_higher": int(lost)}
    return out


def _columns(conn: Any, table: str) -> list[str]:
    return [r[0] for r in conn.execute(f"describe {table}").fetchall()]


def counts_by_source_and_step(conn: Any) -> dict[str, dict[str, int]]:
    """Records per source and link step in `mpi.record_person` (the flow-diagram numbers)."""
    if not table_columns(conn, "mpi.record_person"):
        return {}
    rows = conn.execute(
        "select source, link_step, count(*) from mpi.record_person group by all order by all"
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for source, step, n in rows:
        out.setdefault(source, {})[step] = int(n)
    return out


def summary(conn: Any) -> dict[str, int]:
    """Headline counts: records, persons, per step, multiple matches."""
    rows = conn.execute(
        """select count(*), count(distinct person_id),
                  count(*) filter (where link_step = 'deterministic'),
                  count(*) filter (where link_step = 'probabilistic'),
                  count(*) filter (where link_step = 'bucket'),
                  count(*) filter (where link_step = 'one_time')
           from mpi.record_person"""
    ).fetchall()[0]
    keys = ("records", "persons", "deterministic", "probabilistic", "bucket", "one_time")
    out = dict(zip(keys, (int(v) for v in rows), strict=True))
    if table_columns(conn, "mpi.link_diagnostics"):
        out["multiple_match"] = int(
            conn.execute("select count(*) from mpi.link_diagnostics where multiple_match").fetchall()[0][0]
        )
    return out
