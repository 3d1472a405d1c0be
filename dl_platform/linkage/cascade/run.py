"""Run the cascade over the records not yet in the index and write the MPI tables.

Incremental by default: records already in `mpi.record_person` keep their person and
only new records are linked, with the saved model. A full relink (on request) links
everything again and reconciles IDs with the previous index (`ids.reconcile_with_previous`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dl_platform.linkage.cascade import DIAG, NEW
from dl_platform.linkage.cascade.adopt import adopt_bucket_persons
from dl_platform.linkage.cascade.bucket import build_known_bucket, link_bucket
from dl_platform.linkage.cascade.deterministic import (
    assign_master_records,
    create_step_tables,
    link_deterministic,
)
from dl_platform.linkage.cascade.index import (
    RECORD_PERSON,
    WITHDRAWN,
    stage_full,
    stage_incremental,
    sync_record_index,
    write_index,
)
from dl_platform.linkage.cascade.one_time import assign_one_time
from dl_platform.linkage.cascade.probabilistic import link_to_master
from dl_platform.linkage.comparisons import COMPARISON_NAMES
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.ids import RESOLVED, reconcile_with_previous, resolve_new_refs
from dl_platform.linkage.inputs import (
    available_fields,
    build_link_input,
    create_temp,
    describe_link_input,
    table_columns,
)
from dl_platform.linkage.thresholds import ThresholdChoice, ThresholdPolicy
from dl_platform.linkage.train import TrainedModel, load_or_train

DIAGNOSTICS = "mpi.link_diagnostics"
PREVIOUS = "__dl_previous"
_EMPTY_INDEX = (
    "(select null::varchar source, null::varchar record_id, null::varchar person_id, "
    "null::varchar link_step, null::double match_probability where false)"
)


@dataclass
class CascadeResult:
    """What a run did: counts (never identifier values) and the model used."""

    counts: dict[str, Any] = field(default_factory=dict)
    model: TrainedModel | None = None
    fields: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, ThresholdChoice] = field(default_factory=dict)


def _keep_previous(conn: Any) -> None:
    """On a relink: the index before it, which `reconcile_with_previous` maps new persons onto."""
    exists = bool(table_columns(conn, RECORD_PERSON))
    create_temp(
        conn, PREVIOUS,
        f"""select source || '|' || record_id as unique_id, person_id, link_step, match_probability
        from {RECORD_PERSON if exists else _EMPTY_INDEX}""",
    )


def _new_rows_sql(run_id: str, revision: int) -> tuple[str, str]:
    """SELECTs of this run's rows for record_person and link_diagnostics.

    Every placed record is in `NEW`; the matched master's record_id is read off its
    unique_id (`source|record_id`) rather than by joining the whole input.
    """
    gammas = ", ".join(f"d.gamma_{c}" for c in COMPARISON_NAMES)
    record_person = f"""
        select i.source, i.record_id, r.person_id, r.link_step, r.match_probability
        from {RESOLVED} r join {NEW} i using (unique_id)"""
    diagnostics = f"""
        select i.source, i.record_id, r.person_id, d.steps_attempted, r.link_step,
               substr(d.matched_master_uid, strpos(d.matched_master_uid, '|') + 1) as matched_master_record_id,
               d.match_weight, d.match_probability, {gammas},
               d.n_candidates_above_threshold, d.multiple_match, {revision} as model_revision,
               now() as linked_at, '{run_id}' as run_id
        from {DIAG} d join {RESOLVED} r using (unique_id) join {NEW} i using (unique_id)"""
    return record_person, diagnostics


def _write_outputs(conn: Any, run_id: str, revision: int, incremental: bool) -> None:
    """Rewrite the MPI tables on a first run or relink; otherwise take out withdrawn records and
    append the new ones. One transaction: a failed run leaves the index as it was."""
    conn.execute("create schema if not exists mpi")
    new_rp, new_diag = _new_rows_sql(run_id, revision)
    conn.execute("begin transaction")
    try:
        if not incremental:
            conn.execute(f"create or replace table {RECORD_PERSON} as {new_rp}")
            conn.execute(f"create or replace table {DIAGNOSTICS} as {new_diag}")
        else:
            conn.execute(f"create table if not exists {DIAGNOSTICS} as {new_diag} limit 0")
            for c in COMPARISON_NAMES:  # a model with another set of comparisons than the table's
                conn.execute(f"alter table {DIAGNOSTICS} add column if not exists gamma_{c} integer")
            if conn.execute(f"select count(*) from {WITHDRAWN}").fetchall()[0][0]:
                for table in (RECORD_PERSON, DIAGNOSTICS):
                    conn.execute(
                        f"delete from {table} t using {WITHDRAWN} w "
                        "where t.source = w.source and t.record_id = w.record_id"
                    )
            conn.execute(f"insert into {RECORD_PERSON} by name {new_rp}")
            conn.execute(f"insert into {DIAGNOSTICS} by name {new_diag}")
        write_index(conn, RESOLVED, incremental)
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def run_cascade(
    conn: Any,
    db_api: Any,
    cfg: LinkageConfig,
    models_dir: Path,
    run_id: str,
    retrain: bool = False,
    relink: bool = False,
) -> CascadeResult:
    """Link new records (or everything, with `relink`) and write `mpi.record_person` and
    `mpi.link_diagnostics`.

    Args:
        conn: Writer connection to the warehouse.
        db_api: Splink database API on `conn`.
        cfg: Linkage configuration.
        models_dir: Where the trained model is saved and reused.
        run_id: Identifies this run in diagnostics and ID changes.
        retrain: Train a new model even if the saved one fits.
        relink: Link all records again instead of only new ones.

    Returns:
        Counts per step, timings and the model used.
    """
    result = CascadeResult()
    t0 = time.monotonic()
    incremental = not relink and bool(table_columns(conn, RECORD_PERSON))
    if incremental:
        result.counts["index_rebuilt"] = sync_record_index(conn, cfg)
        staged = stage_incremental(conn, cfg)
        field_counts = describe_link_input(conn)
        n_new = staged.new
        result.counts.update(
            redelivered=staged.redelivered, withdrawn=staged.withdrawn,
            compared_every_record=staged.compared_every_record,
        )
    else:
        if relink:
            _keep_previous(conn)
        field_counts = build_link_input(conn, cfg)
        stage_full(conn)
        n_new = field_counts["records"]
    result.fields = available_fields(field_counts)
    result.counts["input"] = field_counts
    result.counts["new_records"] = n_new
    create_step_tables(conn)
    result.seconds["prepare"] = time.monotonic() - t0
    if n_new:
        t = time.monotonic()
        result.model = load_or_train(db_api, models_dir, result.fields, field_counts, cfg, force=retrain)
        result.seconds["model"] = time.monotonic() - t
        settings = result.model.settings
        policy = ThresholdPolicy(
            models_dir, int(result.model.meta["revision"]), cfg.min_candidates_for_threshold,
            {"probabilistic": cfg.master_match_probability, "bucket": cfg.bucket_match_probability},
        )
        t = time.monotonic()
        build_known_bucket(conn)
        result.counts["master_records"] = assign_master_records(conn)
        result.counts["master_adopted_bucket_person"] = adopt_bucket_persons(
            conn, db_api, settings, result.fields, cfg, policy.current("probabilistic").threshold
        )
        result.counts["deterministic"] = link_deterministic(conn)
        result.seconds["deterministic"] = time.monotonic() - t
        t = time.monotonic()
        result.counts["probabilistic"], result.thresholds["probabilistic"] = link_to_master(
            conn, db_api, settings, result.fields, cfg, policy)
        result.seconds["probabilistic"] = time.monotonic() - t
        t = time.monotonic()
        result.counts["bucket"], result.thresholds["bucket"] = link_bucket(
            conn, db_api, settings, result.fields, cfg, policy)
        result.seconds["bucket"] = time.monotonic() - t
        result.counts["one_time"] = assign_one_time(conn)
    t = time.monotonic()
    resolve_new_refs(conn)
    if relink:
        result.counts["id_changes"] = reconcile_with_previous(conn, PREVIOUS, run_id)
    revision = int(result.model.meta["revision"]) if result.model else 0
    _write_outputs(conn, run_id, revision, incremental)
    result.seconds["write"] = time.monotonic() - t
    result.seconds["total"] = time.monotonic() - t0
    return result
