"""The real code location carries every quality check and report, with owners, groups and severity."""

import dagster as dg

from dl_platform.definitions import defs
from dl_platform.quality.assets import GOVERNANCE_REPORT, LINKAGE_REPORT
from dl_platform.quality.factory import RECORD_PERSON
from dl_platform.quality.linkage_evaluation import LINKAGE_CATALOGUE
from dl_platform.quality.source_checks import CATALOGUE
from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry


def test_every_registry_source_has_every_source_check_with_its_severity():
    graph = defs.resolve_asset_graph()
    registry = load_registry(get_settings().sources_file)
    check_keys = graph.asset_check_keys
    for source in registry:
        for check in CATALOGUE:
            key = dg.AssetCheckKey(dg.AssetKey(["raw", source.name]), check.name)
            assert key in check_keys, key
            spec = graph.get_check_spec(key)
            assert spec.blocking == (check.severity == "ERROR")
            assert spec.description.startswith(f"[{check.severity}]")
    for check in LINKAGE_CATALOGUE:
        assert dg.AssetCheckKey(RECORD_PERSON, check.name) in check_keys


def test_report_assets_have_owner_group_and_description():
    graph = defs.resolve_asset_graph()
    for key in (LINKAGE_REPORT, GOVERNANCE_REPORT):
        node = graph.get(key)
        assert node.group_name == "quality"
        assert node.owners == ["team:data_quality"]
        assert "reports/quality/" in (node.description or "")
    assert RECORD_PERSON in graph.get(LINKAGE_REPORT).parent_keys
    assert defs.resolve_job_def("governance_report_job") is not None
    sensors = {s.name for s in defs.sensors}
    assert {"governance_report_after_success", "governance_report_after_failure"} <= sensors
