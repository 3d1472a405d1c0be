"""What the source checks judge, computed by the engine: counts per source, never rows.

Each rule comes from the dbt macros (`resources.dbt_macros`): a valid NHS number, postcode
or date of birth, a parsed date, a sex code, a financial year mean here what they mean in
the staging models, so a check and the model it guards cannot disagree. The checks
(`completeness`, `consistency`, `period`, `volume`) receive these counts; no identifier
value leaves the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dl_platform.quality.completeness import OVERALL, organisation_column
from dl_platform.quality.tables import pick_column, table_columns, table_exists
from dl_platform.resources.dbt_macros import render
from dl_platform.resources.sql import quote_identifier
from dl_platform.sources.dates import EARLIEST_PLAUSIBLE
from dl_platform.sources.registry import Registry, Source

DEATH_COLUMNS = ("date_of_death", "dod", "death_date")


@dataclass
class SourceStats:
    """One source's counts, as the checks need them (see each field)."""

    records: int
    deliveries: pd.DataFrame  # delivery_file, rows_read, rows_quarantined; oldest first
    # (dimension, group, records, <field> valid counts); dimension OVERALL for the whole source
    valid: pd.DataFrame
    duplicates: int = 0
    missing_ids: int = 0
    sex: dict[str, int] | None = None  # 'M'/'F' -> records
    dob: dict[str, int] | None = None  # with_dob, future
    death: dict[str, int] | None = None  # with_death, both, death_before_birth
    period: dict[str, int] | None = None  # dated, undated, before_start, after_end
    months: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))  # dated records a month
    months_inside: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))  # inside the period
    fyear: dict[str, int] | None = None  # judged, wrong
    after_death: dict[str, int] | None = None  # records_of_deceased, after_death
    after_death_note: str = ""


def _date_literal(day: Any) -> str:
    return f"date '{pd.Timestamp(day).date().isoformat()}'"


def valid_sql(field_name: str, column: str, today: pd.Timestamp) -> str:
    """SQL: the delivered value of a standard identifier field is present and usable."""
    if field_name == "nhs_number":
        return f"({if_valid_nhs(render('clean_nhs_number', column))} is not null)"
    if field_name == "postcode":
        return _place_postcode(render("normalise_postcode", column))
    if field_name == "date_of_birth":
        return (f"coalesce({render('parse_date', column)} between {_date_literal(EARLIEST_PLAUSIBLE)} "
                f"and {_date_literal(today)}, false)")
    if field_name == "sex":
        return f"({render('standardise_sex', column)} is not null)"
    return f"(nullif(trim({column}), '') is not null)"


def _months(conn: Any, sql: str) -> pd.Series:
    """Counts by calendar month (pandas Periods), every month from first to last included."""
    rows = conn.execute(sql).fetchall()
    if not rows:
        return pd.Series(dtype="int64")
    counts = pd.Series({pd.Period(m, "M"): int(n) for m, n in rows})
    full = pd.period_range(counts.index.min(), counts.index.max(), freq="M")
    return counts.reindex(full, fill_value=0).sort_index()


class _Lookups:
    """Rules evaluated once per distinct delivered value, then joined back to the records.

    Values repeat (a few thousand dates, one NHS number per person across several sources),
    and the rule macros are regular expressions and digit arithmetic: judging each distinct
    value once is several times cheaper than judging every row.
    """

    def __init__(self, table: str) -> None:
        self.table, self.ctes, self.joins = table, [], []

    def add(self, column: str, rule: Any, prepare: Any = None) -> str:
        """SQL for `rule(value)` of `column` (a column of `table` aliased t); with `prepare`,
        `rule(prepare(value))`, the prepared value computed once (a rule macro repeats its
        argument many times: an NHS number's ten digits are ten substrings of it)."""
        n = len(self.ctes)
        inner = f"select distinct t.{column} as v from {self.table} t"
        if prepare is not None:
            inner = f"select v, {prepare('v')} as c from ({inner})"
        arg = "c" if prepare is not None else "v"
        self.ctes.append(f"lk{n} as (select v, {rule(arg)} as x from ({inner}))")
        self.joins.append(f"left join lk{n} on lk{n}.v = t.{column}")
        return f"lk{n}.x"


def _records_table(conn: Any, source: Source, table: str, today: pd.Timestamp) -> dict[str, str]:
    """Temp table `table`: one row per loaded record with what the checks read, judged and
    parsed by the dbt rule macros (booleans, dates and group keys; no identifier but the
    cleaned valid NHS number, kept to join dates of death).

    Returns the optional payload columns found (role -> delivery column)."""
    ident, payload = f"raw.{source.name}__identifiers", f"raw.{source.name}__payload"
    fields = [f for f in source.identifier_fields if f in table_columns(conn, ident)]
    payload_cols = table_columns(conn, payload) if table_exists(conn, payload) else []
    wanted = {
        "period": pick_column(payload_cols, source.period.date_column) if source.period else None,
        "fyear": pick_column(payload_cols, "FYEAR"),
        "organisation": organisation_column(payload_cols),
        "death": pick_column(payload_cols, DEATH_COLUMNS),
    }
    present = {k: v for k, v in wanted.items() if v}
    payload_sel = "".join(f", p.{quote_identifier(c)} as {role}" for role, c in present.items())
    join = f"left join {payload} p on p.record_id = i.record_id" if present else ""
    base = f"{table}__base"
    ident_sel = ", ".join(f"i.{quote_identifier(c)}" for c in dict.fromkeys(["record_id", "_delivery_file", *fields]))
    conn.execute(f"create or replace temp table {base} as select {ident_sel}{payload_sel} from {ident} i {join}")
    lookups = _Lookups(base)
    cols = ["t.record_id", "t._delivery_file"]
    # Parsed once per distinct value; validity of NHS number, date of birth and sex follows from
    # the parsed form exactly as `valid_sql` states it.
    parsed = {}
    if "nhs_number" in fields:
        parsed["nhs_number"] = lookups.add("nhs_number", if_valid_nhs, lambda v: render("clean_nhs_number", v))
        cols.append(f"{parsed['nhs_number']} as nhs_clean")
    if "date_of_birth" in fields:
        parsed["date_of_birth"] = lookups.add("date_of_birth", lambda v: render("parse_date", v))
        cols.append(f"{parsed['date_of_birth']} as dob")
    if "sex" in fields:
        parsed["sex"] = lookups.add("sex", lambda v: render("standardise_sex", v))
        cols.append(f"{parsed['sex']} as sex_code")
    bounds = f"between {_date_literal(EARLIEST_PLAUSIBLE)} and {_date_literal(today)}"
    derived = {"nhs_number": "{} is not null", "sex": "{} is not null", "date_of_birth": "{} " + bounds}
    for f in fields:
        column = quote_identifier(f)
        if f in derived:
            rule = derived[f].format(parsed[f])
        elif f == "postcode":
            rule = lookups.add(column, _place_postcode, lambda v: render("normalise_postcode", v))
        else:
            rule = valid_sql(f, f"t.{column}", today)
        cols.append(f"coalesce({rule}, false) as {quote_identifier('valid__' + f)}")
    for role in present:
        is_date = role in ("period", "death")
        cols.append(f"{lookups.add(role, lambda v: render('parse_date', v)) if is_date else 't.' + role} as {role}")
    with_ctes = f"with {', '.join(lookups.ctes)} " if lookups.ctes else ""
    conn.execute(f"create or replace temp table {table} as {with_ctes}"
                 f"select {', '.join(cols)} from {base} t {' '.join(lookups.joins)}")
    conn.execute(f"drop table {base}")
    return present


def if_valid_nhs(clean: str) -> str:
    """SQL: the cleaned NHS number `clean` when it is valid, else NULL."""
    return f"case when {render('is_valid_nhs_number', clean)} then {clean} end"


def _place_postcode(normal: str) -> str:
    """SQL: the normalised postcode `normal` is valid and a place (not a ZZ99 pseudo-postcode),
    as `valid_sql` says."""
    return f"({render('is_valid_postcode', normal)} and not {render('is_pseudo_postcode', normal)})"


def _valid_counts(conn: Any, view: str, fields: list[str], has_org: bool) -> pd.DataFrame:
    """Records and valid values per field: overall, per delivery file and per organisation."""
    sums = "".join(f", count(*) filter (where {quote_identifier('valid__' + f)}) as {quote_identifier(f)}"
                   for f in fields)
    parts = [f"select '{OVERALL}' as dimension, '' as \"group\", count(*) as records{sums} from {view}",
             f"select 'delivery file', coalesce(_delivery_file, ''), count(*){sums} from {view} group by all"]
    if has_org:
        parts.append(f"select 'organisation', coalesce(organisation, '(none)'), count(*){sums} "
                     f"from {view} group by all")
    return conn.execute(" union all ".join(parts)).df()


def collect(conn: Any, source: Source, registry: Registry, today: pd.Timestamp) -> SourceStats | None:
    """Every count the source checks judge for `source`, or None when it was never loaded."""
    ident = f"raw.{source.name}__identifiers"
    if not table_exists(conn, ident):
        return None
    view = f"__dl_check_{source.name}"
    present = _records_table(conn, source, view, today)
    try:
        return _collect(conn, source, registry, today, view, present)
    finally:
        conn.execute(f"drop table if exists {view}")


def _collect(conn: Any, source: Source, registry: Registry, today: pd.Timestamp, view: str,
             present: dict[str, str]) -> SourceStats:
    columns = set(table_columns(conn, f"raw.{source.name}__identifiers"))
    fields = [f for f in source.identifier_fields if f in columns]
    records, missing, distinct = conn.execute(
        f"select count(*), count(*) - count(record_id), count(distinct record_id) from {view}").fetchall()[0]
    log = pd.DataFrame(columns=["delivery_file", "rows_read", "rows_quarantined"])
    if table_exists(conn, "raw.delivery_log"):
        log = conn.execute(
            "select delivery_file, rows_read, rows_quarantined from raw.delivery_log "
            "where source = ? and outcome = 'loaded' order by loaded_at, delivery_file", [source.name],
        ).df()
    stats = SourceStats(
        records=int(records), deliveries=log, valid=_valid_counts(conn, view, fields, "organisation" in present),
        duplicates=int(records - missing - distinct), missing_ids=int(missing),
    )
    if "sex" in fields:
        stats.sex = dict(conn.execute(f"select sex_code, count(*) from {view} where sex_code is not null "
                                      "group by all").fetchall())
    if "date_of_birth" in fields:
        with_dob, future = conn.execute(
            f"select count(dob), count(*) filter (where dob > {_date_literal(today)}) from {view}").fetchall()[0]
        stats.dob = {"with_dob": int(with_dob), "future": int(future)}
        if "death" in present:
            with_death, both, bad = conn.execute(
                f"select count(death), count(*) filter (where death is not null and dob is not null), "
                f"count(*) filter (where death < dob) from {view}").fetchall()[0]
            stats.death = {"with_death": int(with_death), "both": int(both), "death_before_birth": int(bad)}
    if source.period and "period" in present:
        _period_counts(conn, source, view, present, stats)
        _after_death(conn, source, registry, view, today, stats)
    return stats


def _period_counts(conn: Any, source: Source, view: str, present: dict[str, str], stats: SourceStats) -> None:
    start, end = _date_literal(source.period.start), _date_literal(source.period.end)
    dated, undated, before, after = conn.execute(
        f"select count(period), count(*) - count(period), count(*) filter (where period < {start}), "
        f"count(*) filter (where period > {end}) from {view}").fetchall()[0]
    stats.period = {"dated": int(dated), "undated": int(undated), "before_start": int(before),
                    "after_end": int(after)}
    month = "strftime(period, '%Y-%m')"
    stats.months = _months(conn, f"select {month}, count(*) from {view} where period is not null group by 1")
    stats.months_inside = _months(
        conn, f"select {month}, count(*) from {view} where period between {start} and {end} group by 1")
    if "fyear" in present:
        expected = render("derive_financial_year", "period")
        judged, wrong = conn.execute(
            f"""select count(*), count(*) filter (where not coalesce({render('format_fyear', 'fyear')} = {expected}, false))
                from {view} where period is not null and nullif(trim(fyear), '') is not null""").fetchall()[0]
        stats.fyear = {"judged": int(judged), "wrong": int(wrong)}


def _after_death(conn: Any, source: Source, registry: Registry, view: str, today: pd.Timestamp,
                 stats: SourceStats) -> None:
    master = registry.master
    if source.is_master:
        stats.after_death_note = "the master register is where dates of death come from"
        return
    if master is None or "nhs_number" not in master.identifiers or "nhs_number" not in source.identifiers:
        stats.after_death_note = "no master date of death or no NHS number to join on"
        return
    if not table_exists(conn, f"raw.{master.name}__identifiers"):
        stats.after_death_note = "no master date of death or no NHS number to join on"
        return
    # Only the master's records with a date of death are read (a few in a hundred).
    m_ident, m_payload = f"raw.{master.name}__identifiers", f"raw.{master.name}__payload"
    death_col = pick_column(table_columns(conn, m_payload), DEATH_COLUMNS) if table_exists(conn, m_payload) else None
    if death_col is None or "nhs_number" not in table_columns(conn, m_ident):
        stats.after_death_note = "no master date of death or no NHS number to join on"
        return
    death = quote_identifier(death_col)
    deceased, after = conn.execute(
        f"""with deaths as (
                select nhs_clean, min(death) as death from (
                    select {if_valid_nhs('clean')} as nhs_clean, death from (
                        select {render('clean_nhs_number', 'i.nhs_number')} as clean,
                               {render('parse_date', 'p.' + death)} as death
                        from (select record_id, {death} from {m_payload} where nullif(trim({death}), '') is not null) p
                        join {m_ident} i using (record_id)))
                where death is not null and nhs_clean is not null group by 1)
            select count(*), count(*) filter (where r.period > d.death)
            from (select nhs_clean, period from {view} where period is not null and nhs_clean is not null) r
            join deaths d using (nhs_clean)"""
    ).fetchall()[0]
    stats.after_death = {"records_of_deceased": int(deceased), "after_death": int(after)}
