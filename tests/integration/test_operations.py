"""Operating the platform: concurrent first runs, settings refused at once, children stopped with
their parent, Splink's scratch tables never left in the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from tests.integration.conftest import BIN, REPO, cli_env

PDS = ("pds_record_id,nhs_number,given_name,family_name,date_of_birth,gender,postcode,"
       "address_line_1,date_of_death,ethnic_category,gp_practice_code\n"
       "R1,9990000018,ANN,LEE,1980-01-01,2,LS1 1AA,1 A ST,,A,B82001\n")
STUDY = ("participant_id,nhs_number,forename,surname,dob,sex,postcode,address,consent_basis,"
         "perm_nhse_linkage,perm_gp_data,perm_hes_data,enrolment_date,withdrawn\n"
         "S1,9990000018,ANN,LEE,19800101,F,LS1 1AA,1 A ST,consent,Y,Y,Y,2020-01-01,N\n")


def _land(data: Path) -> None:
    for source, body in {"pds": PDS, "study_cohort": STUDY}.items():
        (data / "landing" / source).mkdir(parents=True)
        (data / "landing" / source / f"{source}_1.csv").write_text(body)


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dl-platform"), *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_two_first_commands_at_once_on_a_new_data_folder_both_finish(tmp_path):
    """Nothing is prepared: both commands create the Dagster home and race for the warehouse."""
    data = tmp_path / "data"
    _land(data)
    env = cli_env(data)
    procs = [_cli("materialize", "--select", f"raw/{s}", env=env) for s in ("pds", "study_cohort")]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-3000:]
        assert "RUN_SUCCESS" in out and "already exists" not in out
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        assert sorted(r.status.value for r in instance.get_runs()) == ["SUCCESS", "SUCCESS"]


def test_an_unknown_engine_is_refused_before_any_work(tmp_path):
    data = tmp_path / "data"
    env = {**cli_env(data), "DL_ENGINE": "spork"}
    started = time.monotonic()
    demo = subprocess.run([str(BIN / "dl-platform"), "demo", "--persons", "50"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert demo.returncode != 0 and "DL_ENGINE='spork' is not a supported engine" in demo.stderr
    assert time.monotonic() - started < 20 and not data.exists()
    # Dagster's own CLI refuses at code-location load, before a run is created.
    dagster = subprocess.run([str(BIN / "dagster"), "asset", "materialize", "-m", "dl_platform.definitions",
                              "--select", "raw/pds"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert dagster.returncode != 0 and "is not a supported engine" in dagster.stderr


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.1)
    return False


def test_a_killed_command_takes_its_dagster_child_with_it(tmp_path):
    """SIGKILL to `dl-platform materialize` alone (not its group): the Dagster CLI it started stops too."""
    data = tmp_path / "data"
    _land(data)
    parent = _cli("materialize", "--select", "raw/pds", env=cli_env(data))
    deadline = time.monotonic() + 120
    while not (children := _children(parent.pid)):
        assert parent.poll() is None and time.monotonic() < deadline, "the Dagster child never started"
        time.sleep(0.05)
    parent.kill()
    parent.wait()
    assert _gone(children[0], within=60), "the Dagster child outlived its parent"


def test_splink_scratch_tables_never_stay_in_the_warehouse(monkeypatch, tmp_path):
    """Left by a killed run or made by this one, no `__splink__*` table survives a linkage run."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "linkage"))
    from population import make_population, write_standardised

    from dl_platform.definitions import defs
    from dl_platform.resources.warehouse import WarehouseResource

    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    warehouse = WarehouseResource.from_settings()
    records, _, _ = make_population(200, seed=9)
    with warehouse.get_connection() as conn:
        write_standardised(conn, records)
        conn.execute("create table main.__splink__df_predict_leftover as select 'identifiers' as x")
    keys = [dg.AssetKey(["mpi", k]) for k in ("linkage_model", "record_person")]
    assets = list({id(a): a for a in (defs.get_assets_def(k) for k in keys)}.values())
    result = dg.materialize(assets, resources={"warehouse": warehouse}, selection=keys)
    assert result.success
    with warehouse.get_connection(read_only=True) as conn:
        scratch = conn.execute(
            "select count(*) from information_schema.tables where starts_with(table_name, '__splink__')"
        ).fetchall()[0][0]
        linked = conn.execute("select count(*) from mpi.record_person").fetchall()[0][0]
    assert linked == int(records.link_enabled.sum()) and scratch == 0
