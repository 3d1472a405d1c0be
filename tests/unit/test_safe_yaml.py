"""Registry, project specs and linkage settings refuse unsafe YAML at once, naming file and key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dl_platform.extracts.spec import SpecError, load_spec
from dl_platform.linkage.config import load_config
from dl_platform.safe_yaml import MAX_BYTES, ConfigFileError, parse_yaml
from dl_platform.sources.registry import RegistryError, load_registry

SOURCE = """    title: t
    role: contributing
    primacy: {primacy}
    load: append
    identifiers: {{record_id: id}}
"""


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic 'billion laughs': each level refers `width` times to the one below."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_a_source_given_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n  hes:\n" + SOURCE.format(primacy=1) + "  hes:\n" + SOURCE.format(primacy=2))
    with pytest.raises(RegistryError, match=r"sources.yml: line 8: key 'hes' appears twice \(first on line 2\)"):
        load_registry(path)


def test_a_nested_duplicate_key_is_refused(tmp_path):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n  hes:\n" + SOURCE.format(primacy=1) + "    load: snapshot\n")
    with pytest.raises(RegistryError, match="key 'load' appears twice"):
        load_registry(path)


@pytest.mark.parametrize("loader,error", [(load_spec, SpecError), (load_registry, RegistryError),
                                          (load_config, ConfigFileError)])
def test_an_alias_bomb_is_refused_in_well_under_a_second(tmp_path, loader, error):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    started = time.monotonic()
    with pytest.raises(error, match="aliases"):
        loader(path)
    assert time.monotonic() - started < 0.5


def test_too_many_aliases_are_refused_even_when_small():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    with pytest.raises(ConfigFileError, match="more than 100 aliases"):
        parse_yaml(text, "x.yml")


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("x: " + "a" * (MAX_BYTES + 10) + "\n")
    with pytest.raises(SpecError, match="huge.yaml.*larger than"):
        load_spec(path)


def test_ordinary_anchors_and_merge_keys_still_work():
    doc = parse_yaml("base: &b {role: contributing, load: append}\nhes:\n  <<: *b\n  load: snapshot\n", "ok.yml")
    assert doc["hes"] == {"role": "contributing", "load": "snapshot"}


def test_the_shipped_configuration_files_load():
    from dl_platform.settings import DEFAULT_PROJECTS_DIR, DEFAULT_SOURCES_FILE

    assert load_registry(DEFAULT_SOURCES_FILE).sources
    assert all(load_spec(p).id for p in Path(DEFAULT_PROJECTS_DIR).glob("*.yaml"))
