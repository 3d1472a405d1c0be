"""Score record pairs with the trained model; optional guards may reject edges outright.

Splink scores and the model's weights decide. The guards (`config/linkage.yml`, off by
default) are single-field rules that reject an edge whatever the other evidence says; when
switched on, every edge a guard rejects is counted so the report shows what it cost.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from splink import Linker

from dl_platform.linkage.blocking import search_rules
from dl_platform.linkage.comparisons import COMPARISON_NAMES, ELSE_LEVEL
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.inputs import TF_COLUMNS, TF_TABLE_PREFIX, is_table

_uid = itertools.count()
# Search only the reachable part of the right-hand table when it is this much larger.
PREFILTER_RATIO = 4


def comparison_names(settings: dict[str, Any]) -> tuple[str, ...]:
    """Comparison output names present in a model."""
    return tuple(c["output_column_name"] for c in settings["comparisons"])


def guard_terms(settings: dict[str, Any], cfg: LinkageConfig) -> dict[str, str]:
    """The enabled guards, by name, as SQL predicates over gamma columns an edge must satisfy."""
    have = set(comparison_names(settings))
    terms: dict[str, str] = {}
    if cfg.veto_on_dob_disagreement and "date_of_birth" in have:
        terms["veto_on_dob_disagreement"] = f"gamma_date_of_birth <> {ELSE_LEVEL}"
    if cfg.veto_on_given_name_disagreement and "given_name" in have:
        terms["veto_on_given_name_disagreement"] = f"gamma_given_name <> {ELSE_LEVEL}"
    if cfg.require_dob_or_given_name:
        agree = [f"gamma_{c} > {ELSE_LEVEL}" for c in ("date_of_birth", "given_name", "nhs_number") if c in have]
        terms["require_dob_or_given_name"] = "(" + " or ".join(agree) + ")" if agree else "false"
    return terms


def guard_sql(settings: dict[str, Any], cfg: LinkageConfig) -> str:
    """SQL predicate over gamma columns: the edge passes every enabled guard."""
    return " and ".join(guard_terms(settings, cfg).values()) or "true"


@dataclass
class Edges:
    """Edges kept, and edges at or above `judged_at` that each enabled guard rejected."""

    kept: int
    removed_by_guard: dict[str, int] = field(default_factory=dict)


def add_removed(total: dict[str, int], edges: Edges) -> None:
    for name, n in edges.removed_by_guard.items():
        total[name] = total.get(name, 0) + n


def _linker(db_api: Any, settings: dict[str, Any], table: str) -> Linker:
    """A linker on `table` using the population-wide term-frequency tables."""
    sdf = db_api.register(table, table_name=f"__dl_in_{next(_uid)}")
    linker = Linker(sdf, settings, log_level=logging.WARNING, validate_settings=False)
    used = {
        level.get("tf_adjustment_column")
        for comparison in settings["comparisons"]
        for level in comparison["comparison_levels"]
    }
    for col in TF_COLUMNS:
        if col in used:
            linker.table_management.register_term_frequency_lookup(_register(db_api, TF_TABLE_PREFIX + col), col)
    return linker


def _scoring(settings: dict[str, Any]) -> dict[str, Any]:
    """The model as scoring needs it: no extra columns carried beside the ones compared.

    Every kept column is written once per candidate pair above the floor (3M+ at 1M persons);
    the edges keep none of them (`_write_edges`), and charts use their own linker. (The
    compared values stay: Splink keeps the gamma columns only together with them.)
    """
    return dict(settings, additional_columns_to_retain=[])


def _register(db_api: Any, table: str) -> Any:
    return db_api.register(table, table_name=f"__dl_reg_{next(_uid)}")


def _write_edges(
    conn: Any, predictions: Any, settings: dict[str, Any], cfg: LinkageConfig, out: str, judged_at: float
) -> Edges:
    terms = guard_terms(settings, cfg)
    removed: dict[str, int] = {}
    if terms:
        counts = ", ".join(
            f"count(*) filter (where match_probability >= {judged_at} and not ({sql}))" for sql in terms.values()
        )
        row = conn.execute(f"select {counts} from {predictions.physical_name}").fetchall()[0]
        removed = {name: int(n) for name, n in zip(terms, row, strict=True)}
    have = set(comparison_names(settings))
    gammas = ", ".join(
        (f"gamma_{c}" if c in have else "cast(null as integer)") + f" as gamma_{c}" for c in COMPARISON_NAMES
    )
    conn.execute(
        f"""
        create or replace temp table {out} as
        select unique_id_l, unique_id_r, match_weight, match_probability, {gammas}
        from {predictions.physical_name}
        where {guard_sql(settings, cfg)}
        """
    )
    predictions.drop_table_from_database_and_remove_from_cache()
    return Edges(int(conn.execute(f"select count(*) from {out}").fetchall()[0][0]), removed)


def reachable_sql(left: str, right: str, rules: list[str], key: str = "unique_id", select: str = "r.*") -> str:
    """SQL selecting (`select`, alias r) the rows of `right` some blocking rule pairs with a row
    of `left`.

    Every pair Splink would generate has its right-hand record in this set, so scoring
    against it gives exactly the same predictions; when `left` is a small delivery and
    `right` the whole index, Splink then prepares thousands of records, not millions.
    `key` identifies rows of `right`: `rowid` (a table) is far cheaper to collect than text.
    """
    if not rules:  # no blocking: Splink compares every pair, so every row is reachable
        return f"select {select} from {right} as r"
    keys = " union ".join(
        f"select r.{key} from {right} as r semi join {left} as l on ({rule})" for rule in search_rules(rules)
    )
    return f"select {select} from {right} as r where r.{key} in ({keys})"


def score_between(
    conn: Any,
    db_api: Any,
    settings: dict[str, Any],
    left: str,
    right: str,
    rules: list[str],
    min_probability: float,
    cfg: LinkageConfig,
    out: str,
    prefilter: bool = True,
    judged_at: float = 0.5,
) -> Edges:
    """Guarded, scored pairs between two tables (never within either), into `out`.

    Args:
        conn: Warehouse connection (the Splink API's connection).
        db_api: Splink database API.
        settings: Trained model settings.
        left: Table of records to place (e.g. the residual).
        right: Table of records to search (e.g. the master).
        rules: Blocking rules (SQL) to generate candidate pairs.
        min_probability: Pairs below this probability are dropped.
        cfg: Linkage configuration (guards).
        out: Temp table to create with unique_id_l (left), unique_id_r (right),
            match_weight, match_probability and gamma_<comparison> columns.
        prefilter: cut `right` to the rows the rules reach from `left` when it is much
            larger; False when the caller built `right` that way already.
        judged_at: the threshold the edges will be judged at (for counting guard removals).

    Returns:
        Pairs kept, and how many at or above `judged_at` each guard removed.
    """
    searched = right
    n_left, n_right = conn.execute(f"select (select count(*) from {left}), (select count(*) from {right})").fetchall()[0]
    if prefilter and rules and n_right > PREFILTER_RATIO * n_left:
        searched = f"__dl_reach_{next(_uid)}"
        key = "rowid" if is_table(conn, right) else "unique_id"
        conn.execute(f"create or replace temp table {searched} as {reachable_sql(left, right, rules, key)}")
    linker = _linker(db_api, _scoring(settings), searched)
    predictions = linker.inference.predict_between(
        _register(db_api, left),
        _register(db_api, searched),
        blocking_rules_to_generate_predictions=rules,
        threshold_match_probability=min_probability,
        warning_mode="never",
    )
    edges = _write_edges(conn, predictions, settings, cfg, out, judged_at)
    if searched != right:
        conn.execute(f"drop table if exists {searched}")
    return edges


def score_within(
    conn: Any,
    db_api: Any,
    settings: dict[str, Any],
    table: str,
    rules: list[str],
    min_probability: float,
    cfg: LinkageConfig,
    out: str,
    judged_at: float = 0.5,
) -> Edges:
    """Guarded, scored pairs among the records of one table, into `out` (see `score_between`)."""
    linker = _linker(db_api, _scoring(settings), table)
    predictions = linker.inference.predict_within(
        _register(db_api, table),
        blocking_rules_to_generate_predictions=rules,
        threshold_match_probability=min_probability,
        warning_mode="never",
    )
    return _write_edges(conn, predictions, settings, cfg, out, judged_at)
