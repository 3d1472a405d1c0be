"""The demo, end to end, exactly as a user runs it (`dl-platform demo`), then a governance
lead reviews and releases an extract. Asserts what each kind of user relies on."""

from __future__ import annotations

import re

import pandas as pd

from dl_platform.resources import open_warehouse

NHS_LIKE = re.compile(r"^\d{10}$")
IDENTIFYING_COLUMN = re.compile(
    r"nhs_?n(umber|o)|given_name|family_name|forename|surname|postcode|address|date_of_birth|^dob$"
)
POSTCODE_LIKE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")


def test_demo_generates_a_key_and_says_so(demo):
    data, run = demo.data, demo.run
    assert "generated a LOCAL DEMO key" in run.stderr
    assert (data / ".secrets" / "pseudonymisation_key").stat().st_mode & 0o077 == 0
    assert "Demo complete" in run.stdout and str(data / "marts.duckdb") in run.stdout


def test_marts_hold_no_identifiers(demo):
    data = demo.data
    with open_warehouse(data / "warehouse.duckdb", read_only=True) as conn:
        pds = conn.execute(
            "select nhs_number, upper(given_name || ' ' || family_name) as full_name, "
            "upper(address) as address, upper(postcode) as postcode from raw.pds__identifiers"
        ).df()
    # Whole identifier values (a surname alone can be a word such as WHITE, so names are compared whole).
    known = set().union(*(set(pds[c].dropna()) for c in pds.columns))
    with open_warehouse(data / "marts.duckdb", read_only=True) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables").fetchall()
        assert {"dim_person", "person_flags", "fct_hospital_episodes"} <= {t for _, t in tables}
        for schema, table in tables:
            frame = conn.execute(f'select * from "{schema}"."{table}"').df()
            for column in frame.columns:
                assert not IDENTIFYING_COLUMN.search(column), column
                values = frame[column].dropna().astype(str)
                assert not values.str.match(NHS_LIKE).any(), f"{table}.{column} holds NHS-like values"
                assert not values.str.match(POSTCODE_LIKE).any(), f"{table}.{column} holds postcodes"
                assert not (set(values.str.upper()) & known), f"{table}.{column} holds identifiers"
        persons = conn.execute("select count(*) from dim_person").fetchall()[0][0]
    assert persons >= 500


def test_linkage_accuracy_on_truth(demo):
    data = demo.data
    acc = pd.read_csv(data / "reports" / "linkage" / "accuracy_vs_truth.csv")
    overall = acc[acc["dimension"] == "overall"].iloc[0]
    assert overall["precision"] >= 0.995 and overall["recall"] >= 0.98, overall.to_dict()


def test_governance_report_lists_every_delivery_check_and_extract(demo):
    data, cli = demo.data, demo.cli
    review = cli("review", "llc_cohort", "latest", "--all", "--reviewer", "A. Lead",
                 "--decision", "approve", "--reason", "suppressed and rounded as required")
    assert review.returncode == 0, review.stdout + review.stderr
    release = cli("materialize", "--select", "extracts/llc_cohort/review,extracts/llc_cohort/release")
    assert release.returncode == 0, (release.stdout + release.stderr)[-3000:]
    report = cli("materialize", "--select", "quality/governance_report")
    assert report.returncode == 0, (report.stdout + report.stderr)[-3000:]
    html = (data / "reports" / "quality" / "governance_report.html").read_text()
    for delivery in (data / "landing").glob("*/*"):
        assert delivery.name in html, delivery.name
    for check in ("volume_vs_previous_delivery", "record_id_unique", "match_rate_parity"):
        assert check in html
    assert "llc_cohort" in html and "A. Lead" in html
    released = list((data / "extracts" / "llc_cohort").glob("v*/release.json"))
    assert released, "the reviewed extract was not released"


def test_a_later_delivery_is_linked_from_its_own_rows(demo):
    """A pending HES refresh lands; raw, dbt and the cascade run through the real graph and only
    the rows loaded since the last linkage are read (the watermark), new and re-delivered alike."""
    data, cli = demo.data, demo.cli
    import dagster as dg

    pending = next((data / "pending" / "hes_apc").iterdir())
    with open_warehouse(data / "warehouse.duckdb", read_only=True) as conn:
        before = conn.execute("select source, record_id, person_id from mpi.record_person").df()
    landed = data / "landing" / "hes_apc" / pending.name
    pending.rename(landed)
    run = cli("materialize", "--select", "*mpi/record_person")
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["mpi", "record_person"]))
    cascade = event.asset_materialization.metadata["cascade"].value
    assert cascade["compared_every_record"] is False
    assert cascade["new_records"] + cascade["redelivered"] > 0
    with open_warehouse(data / "warehouse.duckdb", read_only=True) as conn:
        after = conn.execute("select source, record_id, person_id from mpi.record_person").df()
        n_input, n_index, stale = conn.execute(
            """select (select count(*) from intermediate.int_identifiers_standardised where link_enabled),
                      (select count(*) from mpi.record_index),
                      (select count(*) from mpi.record_index x
                       join intermediate.int_identifiers_standardised s using (source, record_id)
                       where x.family_name is distinct from s.family_name
                          or x.date_of_birth is distinct from s.date_of_birth)"""
        ).fetchall()[0]
    assert len(after) == n_input == n_index and stale == 0
    assert len(after) - len(before) == cascade["new_records"]
    kept = before.merge(after, on=["source", "record_id"], suffixes=("_before", "_after"))
    assert len(kept) == len(before) and (kept.person_id_before == kept.person_id_after).all()
