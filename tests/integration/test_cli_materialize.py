"""`dagster asset materialize -m dl_platform.definitions` works, and two concurrent CLI runs
writing the same warehouse both succeed (the second waits for the writer lock)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from dl_platform.resources import open_warehouse

DAGSTER = str(Path(sys.executable).parent / "dagster")
REPO = Path(__file__).resolve().parents[2]


def test_two_concurrent_cli_materialisations(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "DL_DATA_DIR": str(data), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    # A new Dagster home's SQLite schema must exist before two processes start on it at once.
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        instance.get_runs(limit=1)
    for source, body in {
        "pds": "pds_record_id,nhs_number,given_name,family_name,date_of_birth,gender,postcode,"
               "address_line_1,date_of_death,ethnic_category,gp_practice_code\n"
               "R1,9990000018,ANN,LEE,1980-01-01,2,LS1 1AA,1 A ST,,A,B82001\n",
        "study_cohort": "participant_id,nhs_number,forename,surname,dob,sex,postcode,address,consent_basis,"
                        "perm_nhse_linkage,perm_gp_data,perm_hes_data,enrolment_date,withdrawn\n"
                        "S1,9990000018,ANN,LEE,19800101,F,LS1 1AA,1 A ST,consent,Y,Y,Y,2020-01-01,N\n",
    }.items():
        (data / "landing" / source).mkdir(parents=True)
        (data / "landing" / source / f"{source}_1.csv").write_text(body)
    procs = [
        subprocess.Popen(
            [DAGSTER, "asset", "materialize", "-m", "dl_platform.definitions", "--select", f"raw/{s}"],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for s in ("pds", "study_cohort")
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-3000:]
        assert "RUN_SUCCESS" in out
    with open_warehouse(data / "warehouse.duckdb", read_only=True) as conn:
        log = conn.execute("select source, outcome from raw.delivery_log order by 1").fetchall()
    assert log == [("pds", "loaded"), ("study_cohort", "loaded")]
    # Identifier values never reach the run output.
    assert not any("9990000018" in out for out in outputs)
