"""The registry rejects typos with errors naming the file, the source and the key."""

from pathlib import Path

import pytest

from dl_platform.settings import DEFAULT_SOURCES_FILE
from dl_platform.sources.registry import RegistryError, load_registry, parse_registry

P = Path("sources.yml")

BASE = """
sources:
  pds:
    title: PDS
    role: master
    primacy: 1
    load: snapshot
    identifiers: {record_id: id, nhs_number: nhs}
  hes:
    title: HES
    role: contributing
    primacy: 2
    load: append
    identifiers: {record_id: epikey, date_of_birth: dob}
"""


def test_shipped_registry_is_valid():
    reg = load_registry(DEFAULT_SOURCES_FILE)
    assert reg.master is not None and reg.master.name == "pds"
    assert {"pds", "hes_apc", "ecds", "asc_cld", "gp_registrations", "study_cohort"} <= set(reg.sources)
    assert not reg["national_opt_out"].link


def test_minimal_registry_parses():
    reg = parse_registry(BASE, P)
    assert reg["hes"].identifier_fields == ("record_id", "date_of_birth")
    assert reg["hes"].record_id_column == "epikey"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("load: append", "laod: append"), "source 'hes', key 'laod': unknown key"),
        (("role: contributing", "role: master"), "source 'hes', key 'role': at most one master"),
        (("role: contributing", "role: helper"), "source 'hes', key 'role': 'helper' is not one of"),
        (("load: append", "load: stream"), "key 'load': 'stream' is not one of"),
        (("primacy: 2", "primacy: 1"), "key 'primacy': 1 is used by more than one source"),
        (("primacy: 2", "primacy: first"), "key 'primacy': 'first' must be a whole number"),
        (("{record_id: epikey, date_of_birth: dob}", "{date_of_birth: dob}"), "key 'identifiers.record_id': is required"),
        (("date_of_birth: dob", "birth_date: dob"), "key 'identifiers.birth_date': unknown identifier field"),
        (("title: HES", "titel: HES"), "key 'titel': unknown key"),
    ],
)
def test_typos_name_file_source_and_key(change, fragment):
    with pytest.raises(RegistryError) as exc:
        parse_registry(BASE.replace(*change), P)
    assert str(exc.value).startswith("sources.yml: ")
    assert fragment in str(exc.value)


def test_no_master_is_allowed():
    reg = parse_registry(BASE.replace("role: master", "role: contributing"), P)
    assert reg.master is None


def test_period_and_format_are_validated():
    text = BASE.replace(
        "load: append\n",
        "load: append\n    period: {start: 2020-04-01, end: 2019-03-31, date_column: epiend}\n",
    )
    with pytest.raises(RegistryError, match="key 'period.end': is before period.start"):
        parse_registry(text, P)
    text = BASE.replace("load: append\n", "load: append\n    format: {encoding: klingon}\n")
    with pytest.raises(RegistryError, match="key 'format.encoding': 'klingon' is not a known encoding"):
        parse_registry(text, P)


def test_missing_file_and_bad_yaml():
    with pytest.raises(RegistryError, match="registry file not found"):
        load_registry(Path("/nonexistent/sources.yml"))
    with pytest.raises(RegistryError, match="is not valid YAML"):
        parse_registry("sources: [", P)
    with pytest.raises(RegistryError, match="exactly one top-level key"):
        parse_registry("datasets: {}", P)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("date_of_birth: dob", "date_of_birth: 'do\"b'"),
         "key 'identifiers.date_of_birth': column name 'do\"b' contains a quote character"),
        (("{record_id: epikey,", "{record_id: \"epi\\tkey\","),
         "key 'identifiers.record_id': column name 'epi\\tkey' contains a control character"),
        (("load: append\n", "load: append\n    period: {start: 2020-01-01, end: 2021-01-01, "
                            "date_column: \"x\\\" varchar; drop table raw.pds__identifiers; --\"}\n"),
         "key 'period.date_column': column name 'x\" varchar; drop table raw.pds__identifi'… (47 characters) "
         "contains a quote character"),
        (("load: append\n", "load: append\n    format: {compression: zip}\n"),
         "key 'format.compression': 'zip' is not one of none, gzip"),
    ],
)
def test_registry_column_names_and_compression_are_validated(change, fragment):
    with pytest.raises(RegistryError) as exc:
        parse_registry(BASE.replace(*change), P)
    assert str(exc.value).startswith("sources.yml: source 'hes', ")
    assert fragment in str(exc.value)


def test_compression_defaults_to_none_and_accepts_gzip():
    assert parse_registry(BASE, P)["hes"].compression == "none"
    text = BASE.replace("load: append\n", "load: append\n    format: {compression: gzip}\n")
    assert parse_registry(text, P)["hes"].compression == "gzip"
