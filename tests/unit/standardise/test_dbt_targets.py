"""dbt's target folder keeps the last few invocations, never the files the code location loads."""

from __future__ import annotations

import os
import time

from dl_platform.resources.dbt import prune_dbt_targets


def test_only_the_newest_invocation_folders_are_kept(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    old = time.time() - 7200
    for k in range(8):
        folder = target / f"dbt_analytics-run{k}-x"
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (old + k, old + k))
    fresh = target / "dbt_analytics-running-now"
    fresh.mkdir()
    removed = prune_dbt_targets(target, keep=3)
    left = sorted(p.name for p in target.iterdir())
    # The three newest folders (the one being written counts), the two next-newest, and the manifest.
    assert removed == 6
    assert left == ["dbt_analytics-run6-x", "dbt_analytics-run7-x", "dbt_analytics-running-now", "manifest.json"]


def test_a_folder_written_moments_ago_is_never_removed(tmp_path):
    target = tmp_path / "target"
    for k in range(5):
        (target / f"f{k}").mkdir(parents=True)
    assert prune_dbt_targets(target, keep=1) == 0
    assert len(list(target.iterdir())) == 5
