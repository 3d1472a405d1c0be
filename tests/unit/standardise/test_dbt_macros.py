"""dbt's own unit tests (macro logic, in the models' YAML) and the Modulus 11 cross-check.

One `dbt build` on an empty warehouse runs every model (all empty: no source has delivered),
every data test and every unit test; one `dbt compile --inline` renders the NHS number macros,
whose SQL then runs in DuckDB against the `nhs-number` package on 100k random numbers.
Raw loading and the source checks render the same macros outside dbt
(`resources.dbt_macros`): both renderings run on the same values and must agree.
"""

import json
import os
import random
import shutil
import subprocess

import nhs_number
import pandas as pd
import pytest

from dl_platform.resources import open_warehouse
from dl_platform.resources.dbt import dbt_env, dbt_executable
from dl_platform.resources.dbt_macros import render_template
from dl_platform.settings import DBT_PROJECT_DIR, get_settings
from dl_platform.sources.registry import load_registry
from dl_platform.standardise.manifest import ensure_manifest
from dl_platform.standardise.registry_vars import registry_vars_json

CROSS_CHECK_SQL = (
    "select n, {{ clean_nhs_number('n') }} as cleaned, "
    "{{ is_valid_nhs_number('(' ~ clean_nhs_number('n') ~ ')') }} as valid from candidates"
)
# Every rule macro code outside dbt renders, over one column of mixed values.
RULES_SQL = (
    "select v, {{ parse_date('v') }} as d, {{ describe_date_issue('v', \"date '1880-01-01'\", \"date '2026-01-01'\") }} as issue, "
    "{{ extract_year_month('v') }} as ym, {{ normalise_postcode('v') }} as pc, "
    "{{ is_valid_postcode(normalise_postcode('v')) }} as pc_valid, {{ is_pseudo_postcode(normalise_postcode('v')) }} as pseudo, "
    "{{ standardise_sex('v') }} as sex, {{ clean_nhs_number('v') }} as nhs, "
    "{{ is_valid_nhs_number(clean_nhs_number('v')) }} as nhs_valid, {{ format_fyear('v') }} as fy "
    "from candidates order by v"
)
RULE_VALUES = ["1980-02-01", "1/2/1980", "31/02/1980", "19450493", "2999-01-01", "1875-01-01", "1980-02-01T10:00",
               "ec1a1bb", "LS1 4AP", "zz99 3vz", "Q1 1AA", "1", "2", "Female", "u", "943 476 5919", "9434765918",
               "2223", "9911", "", " ", "x"]


@pytest.fixture(scope="module")
def dbt_runs(tmp_path_factory):
    """Run dbt build and compile once against a fresh, empty warehouse."""
    root = tmp_path_factory.mktemp("dbt_unit")
    target = root / "target"
    target.mkdir()
    ensure_manifest()
    partial = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy2(partial, target / "partial_parse.msgpack")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(root / "data"))
        env = {**os.environ, **dbt_env()}
        registry = registry_vars_json(load_registry(get_settings().sources_file))

        def dbt(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([dbt_executable(), *args, "--target-path", str(target)], cwd=DBT_PROJECT_DIR,
                                  env=env, capture_output=True, text=True, check=False)

        build = dbt("build", "--vars", registry)
        results = json.loads((target / "run_results.json").read_text())["results"]
        compiled = dbt("compile", "--quiet", "--inline", CROSS_CHECK_SQL)
        rules = dbt("compile", "--quiet", "--inline", RULES_SQL)
        yield {"build": build, "results": results, "compiled": compiled, "rules": rules,
               "warehouse": root / "cross_check.duckdb"}


def test_dbt_build_on_empty_warehouse_passes_unit_and_data_tests(dbt_runs):
    build = dbt_runs["build"]
    assert build.returncode == 0, build.stdout[-3000:]
    statuses = {r["unique_id"]: r["status"] for r in dbt_runs["results"]}
    unit = {k: v for k, v in statuses.items() if k.startswith("unit_test.")}
    assert len(unit) >= 3 and set(unit.values()) == {"pass"}, unit
    assert any(k.startswith("test.") for k in statuses)
    assert not [k for k, v in statuses.items() if v not in ("pass", "success")]


def random_candidates(n: int, seed: int = 20251123) -> list[str]:
    rng = random.Random(seed)
    numbers = [f"{rng.randrange(10**10):010d}" for _ in range(n)]
    numbers += [str(d) * 10 for d in range(10)]  # pass Modulus 11, never issued
    numbers += ["9434765919", "9876544321", "943 476 5919", "943-476-5919", "4010232137", "123456789", ""]
    return numbers


def expected_validity(n: str) -> bool:
    digits = n.replace(" ", "").replace("-", "")
    if not (digits.isdigit() and len(digits) == 10) or len(set(digits)) == 1:
        return False
    return nhs_number.calculate_checksum(digits[:9]) == int(digits[9])


def test_is_valid_nhs_number_agrees_with_nhs_number_package(dbt_runs):
    compiled = dbt_runs["compiled"]
    assert compiled.returncode == 0, compiled.stdout[-2000:]
    sql = compiled.stdout.strip()
    candidates = random_candidates(100_000)
    with open_warehouse(database=dbt_runs["warehouse"]) as conn:
        conn.register("candidates", pd.DataFrame({"n": candidates}))
        got = conn.execute(sql).df()
    assert len(got) == len(candidates)
    sql_says = dict(zip(got["n"], got["valid"], strict=True))
    # The package also rejects Scottish CHI numbers whose first six digits are not a DDMMYY date;
    # that is a CHI rule, not Modulus 11, so there the package's own checksum is the reference.
    python = [expected_validity(n) for n in candidates]
    disagreements = [n for n, ok in zip(candidates, python, strict=True) if bool(sql_says[n]) != ok]
    assert disagreements == []
    outside_chi = [n for n in candidates if n.isdigit() and len(n) == 10
                   and not nhs_number.REGION_SCOTLAND.contains_number(n)]
    assert len(outside_chi) > 50_000
    assert [n for n in outside_chi if bool(sql_says[n]) != (nhs_number.is_valid(n) and len(set(n)) > 1)] == []
    assert sum(python) > 5_000  # the sample holds plenty of valid numbers, so agreement means something
    assert sql_says["9434765919"] and not sql_says["9876544321"] and not sql_says["0000000000"]
    cleaned = dict(zip(got["n"], got["cleaned"], strict=True))
    assert cleaned["943 476 5919"] == "9434765919" and cleaned["943-476-5919"] == "9434765919"
    assert pd.isna(cleaned["123456789"]) and pd.isna(cleaned[""])


def test_rule_macros_rendered_outside_dbt_agree_with_dbt(dbt_runs):
    rules = dbt_runs["rules"]
    assert rules.returncode == 0, rules.stdout[-2000:]
    with open_warehouse(database=dbt_runs["warehouse"]) as conn:
        conn.register("candidates", pd.DataFrame({"v": RULE_VALUES}))
        by_dbt = conn.execute(rules.stdout.strip()).df()
        ours = conn.execute(render_template(RULES_SQL)).df()
    pd.testing.assert_frame_equal(ours, by_dbt)
    row = by_dbt.set_index("v")
    assert row.loc["1/2/1980", "d"] == pd.Timestamp("1980-02-01") and row.loc["31/02/1980", "issue"] == "impossible_date"
    assert row.loc["zz99 3vz", "pseudo"] and not row.loc["Q1 1AA", "pc_valid"] and row.loc["Female", "sex"] == "F"
