"""The whole extract on a synthetic warehouse (no Dagster): opt-outs, split files, IDs, versions, review."""

import argparse
import json

import pandas as pd
import pytest

from dl_platform.extracts import manifest, review
from dl_platform.extracts.cli import add_review_parser
from dl_platform.extracts.kanonymity import min_class_size
from dl_platform.extracts.optouts import as_flag
from dl_platform.extracts.package import run_extract
from dl_platform.extracts.pseudonymise import project_key, study_ids
from dl_platform.extracts.spec import DIRECT_IDENTIFIERS, load_projects
from dl_platform.resources import open_warehouse
from dl_platform.settings import DEFAULT_PROJECTS_DIR, get_settings
from dl_platform.sources.reader import file_sha256
from tests.unit.extracts.synthetic_marts import deliver_optout_delta, write_warehouse

KEY = "unit-test-key"
SPECS = {s.id: s for s in load_projects(DEFAULT_PROJECTS_DIR)}
CONSENT = next(s for s in SPECS.values() if s.legal_basis == "consent")
S251 = next(s for s in SPECS.values() if s.legal_basis == "s251")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("extract_run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(data))
        mp.setenv("DL_PSEUDONYMISATION_KEY", KEY)
        with open_warehouse() as conn:
            write_warehouse(conn, n=900)
            results = {
                s.id: run_extract(conn, s, KEY, get_settings().extracts_dir) for s in SPECS.values()
            }
        yield results


def snapshot(conn) -> pd.DataFrame:
    persons = conn.execute(
        "select * from marts.dim_person join marts.person_flags using (person_id)"
    ).df()
    part = conn.execute("select * from marts.fct_study_participation").df()
    return persons.merge(part, on="person_id", how="left")


def files(version_dir) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in version_dir.glob("*.parquet")}


def person_ids(frame: pd.DataFrame, spec, persons: pd.DataFrame, key: str = KEY) -> set[str]:
    lookup = dict(
        zip(study_ids(persons["person_id"], project_key(key, spec.id)), persons["person_id"], strict=False)
    )
    return {lookup[s] for s in frame["study_id"]}


def assert_no_opted_out(spec, version_dir, persons: pd.DataFrame) -> None:
    p = persons.set_index("person_id")
    national, type1 = as_flag(p["national_opt_out"]), as_flag(p["type1_opt_out"])
    for name, frame in files(version_dir).items():
        if "study_id" not in frame:
            continue
        ids = pd.Index(sorted(person_ids(frame, spec, persons)))
        assert len(ids), name
        if spec.legal_basis == "s251":
            assert not national[ids].any(), f"{name}: national opt-out in an s251 extract"
        else:
            s251_participant = p.loc[ids, "consent_basis"].eq("s251")
            assert not (national[ids] & s251_participant).any(), name
            assert (
                not as_flag(p.loc[ids, "withdrawn"]).any()
                and as_flag(p.loc[ids, "perm_nhse_linkage"]).all()
            )
        if name == "file2_gp_registrations":
            assert not type1[ids].any(), "type-1 opt-out in GP-sourced data"
            if spec.cohort.study:
                assert as_flag(p.loc[ids, "perm_gp_data"]).all()
        if name == "file2_hospital_episodes" and spec.cohort.study:
            assert as_flag(p.loc[ids, "perm_hes_data"]).all()


def test_no_opted_out_person_in_any_extract_including_after_a_delta(env):
    with open_warehouse() as conn:
        persons = snapshot(conn)
    p = persons
    assert (as_flag(p["national_opt_out"]) & as_flag(p["is_deceased"])).any(), (
        "fixture needs dead opted-out persons"
    )
    for spec in SPECS.values():
        assert_no_opted_out(spec, env[spec.id].version_dir, persons)
    before = set(pd.read_parquet(env[S251.id].version_dir / "file2_payload.parquet")["study_id"])
    with open_warehouse() as conn:
        newly = deliver_optout_delta(conn)
        after = snapshot(conn)
        second = run_extract(conn, S251, KEY, get_settings().extracts_dir)
    assert second.created and second.version_dir.name != env[S251.id].version_dir.name
    assert_no_opted_out(S251, second.version_dir, after)
    hit = set(study_ids(pd.Series(newly), project_key(KEY, S251.id))) & before
    assert hit, "the delta should touch persons of the earlier version"
    assert not hit & set(pd.read_parquet(second.version_dir / "file2_payload.parquet")["study_id"])
    old = json.loads((env[S251.id].version_dir / "manifest.json").read_text())[
        "optout_list_version"
    ]
    new = json.loads((second.version_dir / "manifest.json").read_text())["optout_list_version"]
    assert new["national_opt_out"]["latest_delivery_file"] == "national_opt_out_2025_02.csv"
    assert old["opt_out_set_sha256"] != new["opt_out_set_sha256"]


def test_file2_holds_no_direct_identifier(env):
    with open_warehouse() as conn:
        golden = conn.execute("select * from mpi.golden_record").df()
    secrets = set(golden["nhs_number"]) | set(golden["family_name"]) | set(golden["person_id"])
    for result in env.values():
        for name, frame in files(result.version_dir).items():
            if name == "file1_identifiers":
                continue
            assert not set(frame.columns) & DIRECT_IDENTIFIERS, name
            cells = {str(v) for c in frame.columns for v in frame[c].dropna().unique()}
            assert not cells & secrets, f"{name} holds identifier values"
    file1 = pd.read_parquet(env[CONSENT.id].version_dir / "file1_identifiers.parquet")
    assert {"nhs_number", "family_name", "study_id", "perm_hes_data"} <= set(file1.columns)


def test_two_projects_study_ids_never_join(env):
    a = set(pd.read_parquet(env[CONSENT.id].version_dir / "file2_payload.parquet")["study_id"])
    b = set(pd.read_parquet(env[S251.id].version_dir / "file2_payload.parquet")["study_id"])
    with open_warehouse() as conn:
        persons = snapshot(conn)
    shared = person_ids(pd.DataFrame({"study_id": list(a)}), CONSENT, persons) & person_ids(
        pd.DataFrame({"study_id": list(b)}), S251, persons
    )
    assert shared, "the projects should share persons for this test to mean anything"
    assert not a & b


def test_rerun_same_ids_and_version_other_key_other_ids(env, tmp_path):
    with open_warehouse() as conn:
        current = run_extract(
            conn, CONSENT, KEY, get_settings().extracts_dir
        )  # a new version if a delta landed
        again = run_extract(conn, CONSENT, KEY, get_settings().extracts_dir)
        other = run_extract(conn, CONSENT, "another-key", tmp_path)
    assert not again.created and again.version_dir == current.version_dir
    original = set(
        pd.read_parquet(env[CONSENT.id].version_dir / "file2_payload.parquet")["study_id"]
    )
    rerun = set(pd.read_parquet(again.version_dir / "file2_payload.parquet")["study_id"])
    assert rerun and rerun <= original  # opt-outs can only remove persons; the rest keep their IDs
    assert not (original | rerun) & set(
        pd.read_parquet(other.version_dir / "file2_payload.parquet")["study_id"]
    )


def test_released_files_are_k_anonymous_and_aggregates_safe(env):
    for spec in SPECS.values():
        payload = pd.read_parquet(env[spec.id].version_dir / "file2_payload.parquet")
        assert min_class_size(payload, spec.quasi_identifiers) >= spec.disclosure["k"]
        aggs = pd.read_parquet(env[spec.id].version_dir / "aggregates.parquet")
        assert {"n", "raw_value"}.isdisjoint(aggs.columns)
        shown = aggs.dropna(subset=["value"])
        assert (shown["value"] >= spec.disclosure["threshold"]).all() and (
            shown["value"] % 5 == 0
        ).all()
        assert aggs["value"].isna().any()


def review_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_review_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["review", *argv])
    return args.func(args)


def test_release_needs_every_flag_reviewed_then_is_recorded_and_frozen(env, capsys):
    version = env[CONSENT.id].version_dir.name
    with open_warehouse() as conn:
        flags = review.review_state(conn, CONSENT.id, version)["flag_id"].tolist()
        assert flags
        with pytest.raises(
            review.ReviewError, match=r"refused: .*not reviewed.*dl-platform review"
        ):
            review.release(conn, CONSENT.id, version, "someone")
    assert review_cli(CONSENT.id, version, "--list") == 0
    assert "UNREVIEWED" in capsys.readouterr().out
    assert (
        review_cli(
            CONSENT.id,
            version,
            "--flag",
            "nope",
            "--reviewer",
            "Ann",
            "--decision",
            "approve",
            "--reason",
            "x",
        )
        == 2
    )
    assert (
        review_cli(CONSENT.id, version, "--all", "--reviewer", "Ann Lead", "--decision", "approve")
        == 2
    )
    assert (
        review_cli(
            CONSENT.id,
            version,
            "--flag",
            flags[0],
            "--reviewer",
            "Bob",
            "--decision",
            "reject",
            "--reason",
            "cells too small",
        )
        == 0
    )
    assert (
        review_cli(
            CONSENT.id,
            version,
            "--all",
            "--reviewer",
            "Ann Lead",
            "--decision",
            "approve",
            "--reason",
            "checked the tables",
        )
        == 0
    )
    with open_warehouse() as conn:
        row = review.release(conn, CONSENT.id, version, "Ann Lead")
        log = conn.execute(
            "select reviewer, decision from extracts.review_log where project = ?", [CONSENT.id]
        ).fetchall()
        released = review.released_extracts(conn)
    manifest.freeze(env[CONSENT.id].version_dir, {"released_at": row["released_at"]})
    assert ("Bob", "reject") in log and len(log) == 1 + len(flags)
    mine = released[(released["project"] == CONSENT.id) & (released["version"] == version)].iloc[0]
    assert (
        mine["status"] == "released"
        and "Ann Lead" in mine["reviewers"]
        and pd.notna(mine["released_at"])
    )
    with pytest.raises(manifest.ReleasedVersionError):
        manifest.add_file(env[CONSENT.id].version_dir, "extra.txt", "x")
    with open_warehouse() as conn:
        with pytest.raises(review.ReviewError, match="already released"):
            review.record_review(
                conn,
                project=CONSENT.id,
                version=version,
                reviewer="C",
                decision="approve",
                reason="late",
            )
        conn.execute("update marts.fct_study_participation set perm_hes_data = false")
        rebuilt = run_extract(conn, CONSENT, KEY, get_settings().extracts_dir)
    assert rebuilt.created and rebuilt.version_dir != env[CONSENT.id].version_dir
    m = json.loads((env[CONSENT.id].version_dir / "manifest.json").read_text())
    for name, digest in m["sha256"].items():
        assert file_sha256(env[CONSENT.id].version_dir / name) == digest
