"""Train (or reuse) the Splink model and save it with the facts needed to trust it.

Training is mostly a fixed cost (u from random pairs), so the model is trained once and
reused: a later delivery is linked with the saved model. It is retrained on request,
when no model exists, when the evidence fields change (e.g. a new source brings
addresses) or when the configured model version moves on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import splink
from splink import Linker
from splink.internals.exceptions import EMTrainingException

from dl_platform.linkage.blocking import rules_for, training_rules, within_rules
from dl_platform.linkage.comparisons import build_comparisons
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.inputs import EVIDENCE_FIELDS, LINK_INPUT
from dl_platform.operations.files import write_atomically

log = logging.getLogger(__name__)

MODEL_FILE = "linkage_model.json"
META_FILE = "linkage_model.meta.json"
# Prior when no deterministic rule can estimate it (about 1 in 10^5 random pairs match).
DEFAULT_PRIOR = 1e-5
# Events never seen in n sampled pairs happen at most 3/n (95% upper bound; remove_matches_from_u).
ZERO_EVENTS_UPPER_BOUND = 3.0
# The model never claims a kind of error cannot happen: at least one true pair in a thousand.
M_FLOOR = 1e-3


@dataclass(frozen=True)
class TrainedModel:
    """A model ready to score: its Splink settings and the metadata saved beside it."""

    settings: dict[str, Any]
    meta: dict[str, Any]
    trained_now: bool


def revision_path(models_dir: Path, revision: int) -> Path:
    """Every trained revision is kept: what linked a record can always be looked up."""
    return models_dir / f"linkage_model_r{revision}.json"


def model_paths(models_dir: Path) -> tuple[Path, Path]:
    """Where the current model and its metadata live."""
    return models_dir / MODEL_FILE, models_dir / META_FILE


def base_settings(fields: tuple[str, ...]) -> dict[str, Any]:
    """Untrained Splink settings for the available evidence fields."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": build_comparisons(fields),
        "blocking_rules_to_generate_predictions": within_rules(fields),
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["source", "record_id", "is_master"],
    }


# Deterministic rules estimating the prior (lambda), most precise first: (fields, SQL).
PRIOR_RULES = (
    (("nhs_number", "date_of_birth"), "l.nhs_number = r.nhs_number and l.date_of_birth = r.date_of_birth"),
    (("given_name", "family_name", "date_of_birth"),
     "l.given_name = r.given_name and l.family_name = r.family_name and l.date_of_birth = r.date_of_birth"),
)
# Recall assumed for the prior rule before the model can say what it is.
ASSUMED_RULE_RECALL = 0.9


def _prior_rule(fields: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    return next(((f, sql) for f, sql in PRIOR_RULES if set(f) <= set(fields)), None)


def rule_recall(settings: dict[str, Any], rule_fields: tuple[str, ...], counts: dict[str, int]) -> float:
    """Share of true pairs an exact-agreement rule on `rule_fields` finds, by the trained model:
    both records carry each field (completeness squared) and agree exactly (m of the exact level)."""
    records = max(int(counts.get("records", 0)), 1)
    recall = 1.0
    for comparison in settings["comparisons"]:
        if comparison["output_column_name"] in rule_fields:
            exact = next(lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level"))
            completeness = counts.get(comparison["output_column_name"], 0) / records
            recall *= completeness**2 * float(exact.get("m_probability") or 0.0)
    return recall


def train_model(
    db_api: Any, fields: tuple[str, ...], cfg: LinkageConfig, counts: dict[str, int], table: str = LINK_INPUT
) -> dict[str, Any]:
    """Estimate the model on `table`: prior from deterministic rules, u by random
    sampling, m by EM over cheap blocking rules.

    Args:
        db_api: Splink database API on the warehouse connection.
        fields: Evidence fields with values.
        cfg: Linkage configuration (sample sizes, seed).
        counts: Records and non-null counts per field in `table` (EM pair sampling, the prior).
        table: Input table name on the connection.

    Returns:
        The trained Splink settings dictionary.
    """
    settings = base_settings(fields)
    settings["probability_two_random_records_match"] = DEFAULT_PRIOR
    sdf = db_api.register(table, table_name=f"__dl_train_{int(time.time() * 1000)}")
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    prior_rule = _prior_rule(fields)
    if prior_rule:
        linker.training.estimate_probability_two_random_records_match([prior_rule[1]], recall=ASSUMED_RULE_RECALL)
        if not 0 < linker._settings_obj._probability_two_random_records_match < 1:  # no rule matched any pair
            log.warning("deterministic rules found no matching pairs; prior left at %s", DEFAULT_PRIOR)
            linker._settings_obj._probability_two_random_records_match = DEFAULT_PRIOR
    # One chunk: the chunked probe re-samples until rare levels are seen, doubling the cost.
    linker.training.estimate_u_using_random_sampling(max_pairs=cfg.u_max_pairs, seed=cfg.seed, num_chunks=1)
    # Sampling EM pairs has a fixed probe cost: only worth it when blocks could be large.
    em_max_pairs = cfg.em_max_pairs if int(counts.get("records", 0)) > 100_000 else None
    rules = training_rules(fields)
    # A block with no pairs in this data (no shared NHS numbers, say) teaches nothing: skip it
    # and let the names block, kept in reserve, teach what it would have.
    spare = [r for r in rules_for(("names",), fields) if r not in rules]
    trained: list[str] = []
    for rule in rules + spare:
        if rule in spare and len(trained) == len(rules):
            break
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=em_max_pairs
            )
            trained.append(rule)
        except EMTrainingException:
            log.warning("training block %r has no record pairs in this data; skipped", rule)
    if not trained:
        raise RuntimeError(
            f"linkage model: none of the training blocks {rules + spare} pairs any records in {table}; "
            "the data is too small or carries too few identifiers to train on"
        )
    settings = linker.misc.save_model_to_json()
    if prior_rule:  # the rule's real recall, now that m says how often true pairs agree exactly
        recall = rule_recall(settings, prior_rule[0], counts)
        if recall > 0:
            lam = settings["probability_two_random_records_match"] * ASSUMED_RULE_RECALL / recall
            settings["probability_two_random_records_match"] = min(lam, 0.5)
    return remove_matches_from_u(floor_m(settings), cfg.u_max_pairs)


def remove_matches_from_u(settings: dict[str, Any], sampled_pairs: float) -> dict[str, Any]:
    """u probabilities of non-matching pairs, from those of random pairs.

    Splink estimates u from random pairs as if none matched, but a share lambda of them do:
    a random pair's level frequency is lambda * m + (1 - lambda) * u. Where records repeat
    (several sources, duplicates in a register) matches dominate the agreements on a precise
    identifier, so the sampled u of "NHS number agrees" is about lambda itself, its weight
    merely cancels the prior, and one wrong date then outvotes an agreeing NHS number. Solved
    for u, that bias disappears. What is left can be as little as no pair at all of the
    `sampled_pairs`, and nothing in a sample says how rare an event it never saw is: a level's
    u is never put below the 95% upper bound for zero events in the sample (3 / pairs, the
    "rule of three"), nor below lambda * m(else) (the errors that make a true pair disagree,
    such as a wrong NHS number, are the ones that make a false pair agree). Without that
    floor a borrowed NHS number outweighs a date of birth and a sex that both disagree.
    """
    lam = float(settings["probability_two_random_records_match"])
    resolution = ZERO_EVENTS_UPPER_BOUND / max(sampled_pairs, 1.0)
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"]
                  if not lv.get("is_null_level") and isinstance(lv.get("u_probability"), float)]
        if not levels:
            continue
        m = {id(lv): _float(lv.get("m_probability")) for lv in levels}
        m_else = next((m[id(lv)] for lv in levels if lv["sql_condition"] == "ELSE"), 0.0)
        floor = max(lam * m_else, resolution)
        for lv in levels:
            solved = (lv["u_probability"] - lam * m[id(lv)]) / (1 - lam)
            lv["u_probability"] = min(lv["u_probability"], max(solved, floor))
        _normalise(levels, "u_probability")
    return settings


def _float(value: Any) -> float:
    return float(value) if isinstance(value, float) else 0.0


def _normalise(levels: list[dict[str, Any]], key: str) -> None:
    total = sum(lv[key] for lv in levels)
    for lv in levels:
        lv[key] /= total


def floor_m(settings: dict[str, Any]) -> dict[str, Any]:
    """No level's m below `M_FLOOR`: EM on a small or clean population can drive the m of
    "given names differ" to 1e-24 (a -78 bit veto learnt from not having seen an error) or
    leave a level it never saw untrained (no weight at all for a date that disagrees)."""
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        if not any(isinstance(lv.get("m_probability"), float) for lv in levels):
            continue
        for lv in levels:
            lv["m_probability"] = max(_float(lv.get("m_probability")), M_FLOOR)
        _normalise(levels, "m_probability")
    return settings
    return settings


def drift(trained_on: dict[str, Any], counts: dict[str, int], cfg: LinkageConfig) -> str | None:
    """How the data moved away from what the model was trained on, when it moved enough to
    retrain: the population grew by `retrain_growth` times, or a field's completeness (share
    of records carrying it) shifted by `retrain_completeness_shift` or more — provided there are
    `retrain_min_records` to train on."""
    before, now = int(trained_on.get("records", 0)), int(counts.get("records", 0))
    if now < cfg.retrain_min_records:  # too few records to train a better model than the saved one
        return None
    if before and now >= cfg.retrain_growth * before:
        return f"data drift: {now} records, {now / before:.1f}x the {before} trained on"
    if not before or not now:
        return None
    for f in EVIDENCE_FIELDS:
        shift = counts.get(f, 0) / now - int(trained_on.get(f, 0)) / before
        if abs(shift) >= cfg.retrain_completeness_shift:
            return f"data drift: {f} completeness moved by {shift:+.0%}"
    return None


def needs_training(
    meta: dict[str, Any] | None, fields: tuple[str, ...], cfg: LinkageConfig, force: bool,
    counts: dict[str, int] | None = None,
) -> str | None:
    """Why the model must be (re)trained, or None to reuse the saved one."""
    if force:
        return "requested"
    if meta is None:
        return "no saved model"
    if tuple(meta.get("fields", ())) != fields:
        return "evidence fields changed"
    if int(meta.get("model_version", -1)) != cfg.model_version:
        return "model version changed"
    return drift(meta.get("trained_on") or {}, counts or {}, cfg)


def load_or_train(
    db_api: Any,
    models_dir: Path,
    fields: tuple[str, ...],
    counts: dict[str, int],
    cfg: LinkageConfig,
    force: bool = False,
) -> TrainedModel:
    """Reuse the saved model when it still fits the data; otherwise train and save one.

    Args:
        db_api: Splink database API on the warehouse connection.
        models_dir: Directory holding the saved model (settings `models_dir`).
        fields: Evidence fields with values in the input.
        counts: Non-null counts per field (saved as what the model was trained on).
        cfg: Linkage configuration.
        force: Retrain even if a usable model exists.

    Returns:
        The model settings and metadata (`trained_now` says whether it was trained here).
    """
    model_path, meta_path = model_paths(models_dir)
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    # The metadata is written last and names its revision's file: the commit point of a save.
    saved = revision_path(models_dir, int(meta["revision"])) if meta else None
    if saved is None or not saved.exists():
        meta = None
    reason = needs_training(meta, fields, cfg, force, counts)
    if reason is None and meta is not None and saved is not None:
        return TrainedModel(json.loads(saved.read_text()), meta, trained_now=False)
    started = time.monotonic()
    settings = train_model(db_api, fields, cfg, counts)
    previous = int(meta.get("revision", 0)) if meta else 0
    meta = {
        "revision": previous + 1,
        "model_version": cfg.model_version,
        "reason": reason,
        "fields": list(fields),
        "trained_on": counts,
        "splink_version": splink.__version__,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_seconds": round(time.monotonic() - started, 2),
        "u_max_pairs": cfg.u_max_pairs,
        "em_max_pairs": cfg.em_max_pairs,
    }
    models_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings, indent=2)
    write_atomically(revision_path(models_dir, meta["revision"]), text)
    write_atomically(model_path, text)
    write_atomically(meta_path, json.dumps(meta, indent=2))
    return TrainedModel(settings, meta, trained_now=True)
