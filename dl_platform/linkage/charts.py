"""Charts a reviewer can open: the model's match weights and m/u parameters, waterfall
charts for a sample of probabilistic links, and threshold sensitivity.

Waterfall charts are written with Splink's `remove_sensitive_data`, so they show weights,
not identifier values. Each writer returns the path it wrote (linked from metadata).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

from splink import Linker

from dl_platform.linkage.blocking import to_master_rules
from dl_platform.linkage.cascade.probabilistic import MASTER
from dl_platform.linkage.inputs import LINK_INPUT
from dl_platform.linkage.predict import _linker, _register

logger = logging.getLogger(__name__)


def model_charts(db_api: Any, settings: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Match-weights and m/u-parameter charts of a trained model.

    Args:
        db_api: Splink database API (with the link input table present).
        settings: Trained model settings.
        out_dir: Directory for the HTML files (`reports/linkage`).

    Returns:
        Chart name -> file written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    linker: Linker = _linker(db_api, settings, LINK_INPUT)
    paths = {"match_weights": out_dir / "match_weights.html", "m_u_parameters": out_dir / "m_u_parameters.html"}
    paths["match_weights"].write_text(linker.visualisations.match_weights_chart().to_html(inline=True))
    paths["m_u_parameters"].write_text(linker.visualisations.m_u_parameters_chart().to_html(inline=True))
    return paths


def waterfall_sample(conn: Any, db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], out_dir: Path,
                     n: int = 10) -> Path | None:
    """Waterfall charts for up to `n` records placed by the probabilistic step in this run."""
    conn.execute(
        f"""create or replace temp table __dl_waterfall_left as
        select i.* exclude (linkable) from {LINK_INPUT} i
        join __dl_assign a using (unique_id) where a.link_step = 'probabilistic'
        order by hash(i.unique_id) limit {n}"""
    )
    if not conn.execute("select count(*) from __dl_waterfall_left").fetchall()[0][0]:
        return None
    detailed = dict(settings, retain_intermediate_calculation_columns=True)
    linker = _linker(db_api, detailed, MASTER)
    predictions = linker.inference.predict_between(
        _register(db_api, "__dl_waterfall_left"), _register(db_api, MASTER),
        blocking_rules_to_generate_predictions=to_master_rules(fields),
        threshold_match_probability=0.5, warning_mode="never",
    )
    records = predictions.as_record_list(limit=n)
    path = out_dir / "waterfall_sample.html"
    chart = linker.visualisations.waterfall_chart(records, filter_nulls=False, remove_sensitive_data=True)
    path.write_text(chart.to_html(inline=True))
    predictions.drop_table_from_database_and_remove_from_cache()
    return path


def sensitivity_report(sensitivity: dict[str, dict[str, int]], thresholds: dict[str, float], out_dir: Path) -> Path:
    """A small HTML table: links gained/lost if each threshold moved by the configured delta."""
    rows = "".join(
        f"<tr><td>{html.escape(step)}</td><td>{thresholds.get(step, '')}</td>"
        f"<td>{v['gained_at_lower']}</td><td>{v['lost_at_higher']}</td></tr>"
        for step, v in sensitivity.items()
    )
    path = out_dir / "threshold_sensitivity.html"
    path.write_text(
        "<html><body><h2>Threshold sensitivity</h2><table border=1>"
        "<tr><th>step</th><th>threshold</th><th>links gained at threshold - delta</th>"
        f"<th>links lost at threshold + delta</th></tr>{rows}</table>"
        f"<pre>{html.escape(json.dumps(thresholds))}</pre></body></html>"
    )
    return path


def cluster_studio(db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], bucket_table: str,
                   threshold: float, out_dir: Path, sample_size: int = 10) -> Path | None:
    """Splink's cluster studio for the largest bucket clusters of this run.

    Bucket clusters are where a reviewer should look first: no master record vouches for
    them. The dashboard shows the records themselves, so it stays in `reports/linkage`
    inside the linkage zone and is never linked from analyst-facing outputs.
    """
    from dl_platform.linkage.blocking import within_rules

    linker = _linker(db_api, dict(settings, retain_intermediate_calculation_columns=True), bucket_table)
    predictions = linker.inference.predict_within(
        _register(db_api, bucket_table), blocking_rules_to_generate_predictions=within_rules(fields),
        threshold_match_probability=threshold, warning_mode="never",
    )
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    path = out_dir / "cluster_studio.html"
    linker.visualisations.cluster_studio_dashboard(
        predictions, clusters, str(path), sampling_method="by_cluster_size", sample_size=sample_size,
        overwrite=True,
    )
    return path
