"""Same (persons, seed) gives byte-identical outputs; the committed seeds are reproducible."""

from __future__ import annotations

import hashlib

import pandas as pd

from dl_platform.cli import main
from dl_platform.synthetic.geography import build_seeds, seeds_dir, write_seeds
from dl_platform.synthetic.writer import sort_order


def _digests(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_runs_are_byte_identical(tmp_path, capsys):
    for name in ("a", "b"):
        assert (
            main(["synth", "--persons", "400", "--seed", "5", "--out", str(tmp_path / name)]) == 0
        )
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert first == second and len(first) > 20
    main(["synth", "--persons", "400", "--seed", "6", "--out", str(tmp_path / "c")])
    assert _digests(tmp_path / "c") != first
    printed = capsys.readouterr().out
    assert "pds" in printed and "persons" in printed


def test_committed_seeds_match_the_seed_script(tmp_path):
    written = write_seeds(tmp_path)
    for path in written:
        assert path.read_bytes() == (seeds_dir() / path.name).read_bytes(), path.name
        assert path.stat().st_size < 1_500_000


def test_seed_geography_is_bs7666_shaped():
    seeds = build_seeds()
    postcodes = seeds["ref_postcode_lsoa"]
    pattern = r"^[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$"
    assert postcodes["postcode"].str.match(pattern).all() and postcodes["postcode"].is_unique
    assert len(postcodes) > 15000 and postcodes["lsoa11"].nunique() == 1200
    assert postcodes["region"].nunique() == 7
    imd = seeds["ref_lsoa_imd"]
    assert imd["imd_rank"].between(1, 32844).all() and set(imd["imd_decile"]) == set(range(1, 11))
    practices = seeds["ref_gp_practices"]
    assert practices["practice_code"].str.match(r"^[A-Z]\d{5}$").all()
    assert practices["postcode"].isin(postcodes["postcode"]).all()


def test_id_sort_key_orders_like_strings():
    ids = pd.Series(["EC0000000010", "EC0000000002", "EC0000000100"])
    assert list(ids.iloc[sort_order(ids)]) == sorted(ids)
    mixed = pd.Series(["b", "a", "c10", "c9"])
    assert list(mixed.iloc[sort_order(mixed)]) == sorted(mixed)
