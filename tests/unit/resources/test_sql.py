"""Names from data reach SQL quoted, in single statements: a header cannot run SQL."""

from __future__ import annotations

import pytest

from dl_platform.resources import open_warehouse
from dl_platform.resources.sql import quote_identifier, quote_relation, single_statement


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("code", '"code"'), ("Clinic Name", '"Clinic Name"'), ('a"b', '"a""b"'), ('""', '""""""'),
     ("it's", '"it\'s"')],
)
def test_quote_identifier_doubles_embedded_double_quotes(name, quoted):
    assert quote_identifier(name) == quoted


@pytest.mark.parametrize("name", ["", "a\x00b", None])
def test_quote_identifier_refuses_what_no_quoting_can_carry(name):
    with pytest.raises(ValueError, match="identifier"):
        quote_identifier(name)


def test_quote_relation_quotes_each_part():
    assert quote_relation("raw.visits__payload") == '"raw"."visits__payload"'


def test_single_statement_passes_one_and_refuses_several_or_none():
    assert single_statement("select 1") == "select 1"
    assert single_statement("select 1; -- trailing comment") == "select 1; -- trailing comment"
    with pytest.raises(ValueError, match="2 statements"):
        single_statement("select 1; select 2")
    with pytest.raises(ValueError, match="0 statements"):
        single_statement("-- nothing")
    with pytest.raises(ValueError, match="does not parse"):
        single_statement("select from where (")


def test_a_hostile_name_quoted_becomes_one_column_and_runs_nothing(tmp_path):
    leak = tmp_path / "outside" / "leak.csv"
    leak.parent.mkdir()
    name = f"x\" varchar; copy (select 42 as answer) to '{leak}'; --"
    with pytest.raises(ValueError, match="2 statements"):
        single_statement(f'alter table t add column "{name}" varchar')  # quoted by hand, as before
    with open_warehouse(tmp_path / "w.duckdb") as conn:
        conn.execute("create table t (id integer)")
        conn.execute(single_statement(f"alter table t add column {quote_identifier(name)} varchar"))
        assert [r[0] for r in conn.execute("describe t").fetchall()] == ["id", name]
        assert not leak.exists()
        # What the quoting prevents: the hand-quoted text, executed, does write the file.
        conn.execute(f'alter table t add column "{name}" varchar')
    assert leak.exists()
