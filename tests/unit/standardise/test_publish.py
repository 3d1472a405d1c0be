"""Publishing marts: an atomic copy, refused when anything looks identifying (never echoing the value)."""

import pytest

from dl_platform.resources import open_warehouse
from dl_platform.standardise.publish import IdentifyingDataError, publish_marts

NHS_NUMBER = "9434765919"


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with open_warehouse(path) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.dim_person as select 'P1' as person_id, 1950 as year_of_birth")
        yield conn


@pytest.mark.parametrize(
    "ddl, column",
    [
        (f"select 'P1' as person_id, '{NHS_NUMBER}' as ref", "ref"),
        ("select 'P1' as person_id, '943 476 5919' as ref", "ref"),
        ("select 'P1' as person_id, 'sw1a 1aa' as area", "area"),
        ("select 'P1' as person_id, 'Ann' as given_name", "given_name"),
        ("select 'P1' as person_id, date '1950-01-01' as date_of_birth", "date_of_birth"),
    ],
)
def test_guard_refuses_and_leaves_published_file_alone(warehouse, tmp_path, ddl, column):
    target = tmp_path / "out" / "marts.duckdb"
    publish_marts(warehouse, target)
    before = target.read_bytes()
    warehouse.execute(f"create table marts.leaky as {ddl}")
    with pytest.raises(IdentifyingDataError, match=rf"marts\.leaky\.{column}") as err:
        publish_marts(warehouse, target)
    assert NHS_NUMBER not in str(err.value) and "SW1A" not in str(err.value).upper()
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["marts.duckdb"]


def test_publish_copies_every_marts_table_into_the_default_schema(warehouse, tmp_path):
    warehouse.execute("create table marts.person_flags as select 'P1' as person_id, true as ltc_diabetes")
    warehouse.execute("create schema staging")
    warehouse.execute("create table staging.secret as select 'x' as anything")
    target = tmp_path / "marts.duckdb"
    result = publish_marts(warehouse, target)
    assert result.tables == {"dim_person": 1, "person_flags": 1}
    with open_warehouse(target, read_only=True) as reader:
        tables = reader.execute("select schema_name, table_name from duckdb_tables() order by 2").fetchall()
        assert tables == [("main", "dim_person"), ("main", "person_flags")]
        assert reader.execute("select ltc_diabetes from person_flags").fetchall() == [(True,)]
