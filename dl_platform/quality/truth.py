"""Linkage truth: which person each record really belongs to, for the optional accuracy evaluation.

Only the file named by `DL_TRUTH_FILE` is read, and only by the quality stage (the
`quality/linkage_accuracy` asset and the linkage-quality report). The MPI and the checks on
it never read truth, so a missing, malformed or foreign truth file can fail the evaluation
and nothing else.

Schema, one row per record (Parquet, or CSV with a header row):

    source      text            the registry source name, as in mpi.record_person
    record_id   text or integer the record's id in that source, as in mpi.record_person
    person_key  text or integer the true person: records sharing a key are one person

Optional person attributes for precision/recall by group: `ethnic_group`, `age_band`, `sex`,
`imd_decile` or `imd_quintile`, either as columns of the truth file or in a sibling file
`<stem>_persons.<suffix>` (`truth.parquet` -> `truth_persons.parquet`) with one row per
`person_key`; the sibling file wins when both exist. Other columns are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dl_platform.linkage.accuracy import accuracy_report
from dl_platform.quality.linkage_inputs import quintile_from_decile
from dl_platform.quality.outcome import CheckOutcome
from dl_platform.quality.thresholds import MIN_TRUTH_PRECISION, MIN_TRUTH_RECALL

FLOOR_CHECK = "precision_recall_above_floor"
REQUIRED = ("source", "record_id", "person_key")
ATTRIBUTES = ("ethnic_group", "age_band", "sex", "imd_quintile")
ATTRIBUTE_COLUMNS = (*ATTRIBUTES, "imd_decile")
SCHEMA_HINT = ("a truth file has one row per record with columns source (text), record_id (text or "
               "integer) and person_key (text or integer); README, 'Measuring linkage accuracy'")
# Kinds each column may hold: a decimal record_id (1.0) would never equal the MPI's '1'.
ALLOWED_KINDS = {"source": {"text"}, "record_id": {"text", "integer"}, "person_key": {"text", "integer"}}
_SHOWN_NAMES = 12


class TruthFileError(ValueError):
    """The truth file cannot be used; the message names the file and what is wrong (counts only)."""

    def __init__(self, path: Path, problem: str, missing: tuple[str, ...] = ()):
        super().__init__(f"truth file {path}: {problem} — {SCHEMA_HINT}")
        self.path = path
        self.problem = problem
        self.missing = missing


@dataclass(frozen=True)
class Truth:
    """A validated truth file: records (source, record_id, person_key as text) and person attributes."""

    path: Path
    records: pd.DataFrame
    persons: pd.DataFrame | None = None
    persons_path: Path | None = None


def persons_path_for(path: Path) -> Path:
    """The sibling person-attribute file of a truth file (`truth.parquet` -> `truth_persons.parquet`)."""
    return path.with_name(f"{path.stem}_persons{path.suffix}")


def _names(names) -> str:
    shown = [str(n)[:40] for n in list(names)[:_SHOWN_NAMES]]
    more = len(list(names)) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "") if shown else "none"


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise TruthFileError(path, "does not exist")
    if not path.is_file():
        raise TruthFileError(path, "is not a file")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise TruthFileError(path, f"unsupported file type '{suffix[:20]}' (use .parquet or .csv)")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype="string")
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes one clear message
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise TruthFileError(path, f"cannot be read as {kind} ({type(exc).__name__}: {detail})") from exc


def value_kind(column: pd.Series) -> str:
    """'text', 'integer', 'decimal', 'boolean', 'date/time' or 'mixed' for a column's values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    if pd.api.types.is_float_dtype(column):
        return "decimal"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date/time"
    if pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
        return "text"
    types = set(column.dropna().map(type).unique())
    if types and types <= {str}:
        return "text"
    if types and all(issubclass(t, int) and not issubclass(t, bool) for t in types):
        return "integer"
    return "mixed" if types else "text"


def _validate_records(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    missing = tuple(c for c in REQUIRED if c not in frame.columns)
    if missing:
        raise TruthFileError(path, f"missing required column(s) {', '.join(missing)} "
                             f"(its columns: {_names(frame.columns)})", missing)
    problems = []
    for column in REQUIRED:
        kind = value_kind(frame[column])
        if kind not in ALLOWED_KINDS[column]:
            problems.append(f"column {column} holds {kind} values ({frame[column].dtype}); "
                            f"expected {' or '.join(sorted(ALLOWED_KINDS[column]))}")
        nulls = int(frame[column].isna().sum())
        if nulls:
            problems.append(f"{nulls} of {len(frame)} rows have no {column}")
    if problems:
        raise TruthFileError(path, "; ".join(problems))
    if frame.empty:
        raise TruthFileError(path, "has no rows")
    # A record listed twice with the same person (a re-delivery) is harmless; two persons are not.
    records = pd.DataFrame({c: frame[c].astype(str).astype(object) for c in REQUIRED}).drop_duplicates()
    conflicting = int(records.duplicated(["source", "record_id"]).sum())
    if conflicting:
        raise TruthFileError(path, f"{conflicting} records (source, record_id) are given two or more different "
                             "person_keys; each record must belong to one person")
    return records.reset_index(drop=True)


def _attributes(frame: pd.DataFrame) -> pd.DataFrame | None:
    present = [c for c in ATTRIBUTE_COLUMNS if c in frame.columns]
    if not present:
        return None
    people = frame[["person_key", *present]].copy()
    if "imd_quintile" not in people and "imd_decile" in people:
        people["imd_quintile"] = quintile_from_decile(people["imd_decile"])
    people = people.drop(columns=[c for c in ("imd_decile",) if c in people])
    for column in people.columns:
        people[column] = people[column].astype("string")
    return people


def _read_persons(path: Path) -> pd.DataFrame | None:
    frame = _read(path)
    if "person_key" not in frame.columns:
        raise TruthFileError(path, f"missing required column person_key (its columns: {_names(frame.columns)})",
                             ("person_key",))
    kind = value_kind(frame["person_key"])
    if kind not in ALLOWED_KINDS["person_key"] or frame["person_key"].isna().any():
        raise TruthFileError(path, f"column person_key must be text or integer with no blanks (found {kind})")
    people = _attributes(frame.assign(person_key=frame["person_key"].astype(str)))
    if people is not None:
        repeated = int(people["person_key"].duplicated().sum())
        if repeated:
            raise TruthFileError(path, f"{repeated} rows repeat a person_key; a person file has one row per person")
    return people


def load_truth(path: Path) -> Truth:
    """Read and validate the truth file (and its sibling person file, if present).

    Args:
        path: the file named by `DL_TRUTH_FILE`.

    Returns:
        The validated `Truth`.

    Raises:
        TruthFileError: the file is absent, unreadable or does not fit the schema; the message
            names the file and what is missing or wrong (never a value from it).
    """
    frame = _read(path)
    records = _validate_records(path, frame)
    sibling = persons_path_for(path)
    if sibling.exists():
        return Truth(path, records, _read_persons(sibling), sibling)
    people = _attributes(frame.assign(person_key=frame["person_key"].astype(str)))
    if people is not None:
        people = people.drop_duplicates("person_key")
    return Truth(path, records, people, None)


def attach_truth(records: pd.DataFrame, truth: Truth) -> pd.DataFrame:
    """`records` with each one's true `person_key` and, where truth gives them, the true person's
    group attributes (replacing those the MPI inferred).

    Args:
        records: rows with `source` and `record_id` (e.g. mpi.record_person).
        truth: the validated truth.

    Returns:
        `records` plus `person_key` (null where truth does not list the record).
    """
    keyed = records.assign(source=records["source"].astype(str).astype(object),
                           record_id=records["record_id"].astype(str).astype(object))
    out = keyed.merge(truth.records, on=["source", "record_id"], how="left")
    if truth.persons is not None:
        replaced = [c for c in truth.persons.columns if c != "person_key" and c in out.columns]
        out = out.drop(columns=replaced).merge(truth.persons, on="person_key", how="left")
    return out


def score_against_truth(record_person: pd.DataFrame, truth: Truth) -> tuple[pd.DataFrame, dict[str, int]]:
    """Pairwise precision, recall and F1 of the MPI against truth, and how much of each was compared.

    Args:
        record_person: mpi.record_person rows (source, record_id, person_id, link_step).
        truth: the validated truth.

    Returns:
        (`accuracy_report` rows: overall, per link step, per source, per group; coverage counts
        records_scored, mpi_records_without_truth, truth_records_not_in_mpi).

    Raises:
        TruthFileError: no record of the MPI is in the truth file (the truth of other data).
    """
    keyed = pd.DataFrame({
        "source": record_person["source"].astype(str).astype(object),
        "record_id": record_person["record_id"].astype(str).astype(object),
        "person_id": record_person["person_id"].to_numpy(),
        "link_step": record_person["link_step"].to_numpy(),
    })
    report = accuracy_report(keyed, truth.records, truth.persons)
    scored = int(report.iloc[0]["records"])
    if scored == 0:
        raise TruthFileError(truth.path, f"none of its {len(truth.records)} records is in mpi.record_person "
                             f"({len(keyed)} records; sources in the file: {_names(sorted(truth.records['source'].unique()))}; "
                             f"in the MPI: {_names(sorted(keyed['source'].unique()))}), so it is not the truth "
                             "for these data")
    coverage = {"records_scored": scored, "mpi_records_without_truth": len(keyed) - scored,
                "truth_records_not_in_mpi": len(truth.records) - scored}
    return report, coverage


def check_precision_recall(overall: pd.Series, min_precision: float = MIN_TRUTH_PRECISION,
                           min_recall: float = MIN_TRUTH_RECALL) -> CheckOutcome:
    """Fail (as a warning) when overall pairwise precision or recall is below its floor.

    Args:
        overall: the 'overall' row of `accuracy_report`.
        min_precision: the precision floor.
        min_recall: the recall floor.

    Returns:
        The outcome; the reason names each measure below its floor.
    """
    measured = {"precision": round(float(overall["precision"]), 6), "recall": round(float(overall["recall"]), 6)}
    floors = {"precision": min_precision, "recall": min_recall}
    low = [k for k in ("precision", "recall") if measured[k] < floors[k]]
    reason = "; ".join(
        f"{k} {measured[k]:.4f} against truth is below the floor {floors[k]}"
        + (" (records of different people linked together)" if k == "precision" else
           " (records of one person left apart)")
        for k in low
    )
    return CheckOutcome(FLOOR_CHECK, not low, measured=measured, threshold=floors, reason=reason,
                        details={"f1": round(float(overall["f1"]), 6), "records": int(overall["records"])})
