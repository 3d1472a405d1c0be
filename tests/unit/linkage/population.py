"""A small synthetic population already in the standardised contract's columns.

Test-only (not in the package): stands in for `intermediate.int_identifiers_standardised`
so linkage tests need neither dbt nor the synthetic-data CLI. Households share family
name, postcode and address, and include twins, because households are what break
naive linkage models. Records carry the errors linkage has to survive: name typos,
nicknames, transposed or mistyped dates of birth, moves, missing NHS numbers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

GIVEN = {"M": ["JAMES", "JOHN", "ROBERT", "MICHAEL", "WILLIAM", "DAVID", "RICHARD", "THOMAS", "MOHAMMED",
               "OLIVER", "HARRY", "GEORGE", "JACK", "NOAH", "LEO", "ARJUN", "KWAME", "PIOTR", "SEAN", "LIAM"],
         "F": ["MARY", "PATRICIA", "JENNIFER", "ELIZABETH", "SUSAN", "MARGARET", "SARAH", "OLIVIA", "AMELIA",
               "ISLA", "AVA", "EMILY", "FATIMA", "PRIYA", "CHLOE", "GRACE", "AISHA", "ZOFIA", "NIAMH", "RUBY"]}
NICK = {"JAMES": "JIM", "JOHN": "JACK", "ROBERT": "BOB", "MICHAEL": "MIKE", "WILLIAM": "BILL", "DAVID": "DAVE",
        "RICHARD": "DICK", "THOMAS": "TOM", "ELIZABETH": "LIZ", "MARGARET": "PEGGY", "SUSAN": "SUE"}
FAMILY = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "PATEL", "KHAN",
          "ROBINSON", "WRIGHT", "THOMPSON", "EVANS", "WALKER", "WHITE", "ROBERTS", "GREEN", "HALL", "WOOD",
          "NOWAK", "OKAFOR", "MURPHY", "CLARKE", "HUGHES", "EDWARDS", "HILL", "MOORE", "KING", "LEE"]
ETHNIC = ["White", "Asian", "Black", "Mixed", "Other"]
COLUMNS = ["source", "record_id", "is_master", "source_primacy", "link_enabled", "nhs_number", "nhs_number_valid",
           "given_name", "given_name_formal", "given_name_phonetic", "family_name", "family_name_phonetic",
           "date_of_birth", "date_of_birth_issue", "sex", "postcode", "postcode_as_delivered_normalised",
           "postcode_is_pseudo", "postcode_valid", "postcode_outward", "postcode_sector", "address"]


def phonetic(name: str | None) -> str | None:
    """A crude phonetic key (first letter + consonant skeleton) good enough for tests."""
    if not name:
        return None
    tail = "".join(c for c in name[1:] if c not in "AEIOUYHW")
    return (name[0] + "".join(c for i, c in enumerate(tail) if i == 0 or tail[i - 1] != c))[:6]


def nhs_number(rng: np.random.Generator) -> str:
    """A Modulus-11-valid 10-digit number."""
    while True:
        digits = [int(d) for d in rng.integers(0, 10, 9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10 and len(set(digits)) > 1:
            return "".join(map(str, digits)) + str(check)


def _persons(n: int, rng: np.random.Generator) -> pd.DataFrame:
    rows, hh = [], 0
    while len(rows) < n:
        hh += 1
        family = FAMILY[rng.integers(len(FAMILY))] + ("" if rng.random() < 0.7 else f"{chr(65 + rng.integers(26))}")
        pc = f"L{rng.integers(1, 30)} {rng.integers(1, 10)}{chr(65 + rng.integers(26))}{chr(65 + rng.integers(26))}"
        addr = f"{rng.integers(1, 200)} {FAMILY[rng.integers(len(FAMILY))]} ROAD"
        twins = rng.random() < 0.05
        twin_dob = dt.date(2000, 1, 1) + dt.timedelta(days=int(rng.integers(0, 7000)))
        for k in range(int(rng.integers(1, 5))):
            sex = "M" if rng.random() < 0.5 else "F"
            dob = twin_dob if twins and k < 2 else dt.date(1930, 1, 1) + dt.timedelta(days=int(rng.integers(0, 33000)))
            rows.append(dict(person_key=f"K{len(rows):07d}", given=GIVEN[sex][rng.integers(20)], family=family,
                             dob=dob, sex=sex, postcode=pc, address=addr, nhs=nhs_number(rng),
                             ethnic_group=ETHNIC[min(int(rng.exponential(0.8)), 4)], imd_quintile=int(rng.integers(1, 6))))
    persons = pd.DataFrame(rows[:n])
    age = (2025 - pd.to_datetime(persons["dob"]).dt.year)
    persons["age_band"] = pd.cut(age, [-1, 17, 39, 64, 200], labels=["0-17", "18-39", "40-64", "65+"]).astype(str)
    return persons


def _typo(s: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(s)))
    return s[:i] + chr(65 + rng.integers(26)) + s[i + 1:]


def _dob_error(d: dt.date, rng: np.random.Generator) -> dt.date:
    if d.day <= 12 and rng.random() < 0.5:
        return dt.date(d.year, d.day, d.month)
    return d.replace(year=d.year + int(rng.choice([-1, 1]))) if not (d.month == 2 and d.day == 29) else d


SOURCES = {  # name: (primacy, coverage, records/person, has_names, nhs_present, error_rate, link)
    "pds": (1, 0.97, 1, True, 1.0, 0.0, True),
    "gp_registrations": (2, 0.9, 1, True, 0.97, 0.05, True),
    "hes_apc": (3, 0.35, 2, False, 0.93, 0.05, True),
    "asc_cld": (5, 0.1, 2, True, 0.6, 0.12, True),
    "national_opt_out": (7, 0.03, 1, False, 1.0, 0.0, False),
}


def make_population(n_persons: int, seed: int = 1, sources: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Standardised records, record-level truth and person attributes.

    Args:
        n_persons: Population size.
        seed: Random seed.
        sources: Source specs like `SOURCES` (default: all of them).

    Returns:
        (standardised records in contract columns, truth (source, record_id, person_key), persons).
    """
    rng = np.random.default_rng(seed)
    persons = _persons(n_persons, rng)
    recs = []
    for name, (primacy, cover, per, names, nhs_p, err, link) in (sources or SOURCES).items():
        master = name == "pds"
        for p in persons.itertuples():
            if rng.random() > cover:
                continue
            for _ in range(1 if master or not link else int(rng.integers(1, 2 * per))):
                given, family, dob, pc = p.given, p.family, p.dob, p.postcode
                if not master and rng.random() < err:
                    given = NICK.get(given, _typo(given, rng)) if rng.random() < 0.5 else _typo(given, rng)
                if not master and rng.random() < err:
                    family = _typo(family, rng)
                if not master and rng.random() < err:
                    dob = _dob_error(dob, rng)
                if not master and rng.random() < err:
                    pc = f"M{rng.integers(1, 30)} {rng.integers(1, 10)}AB"
                formal = next((f for f, nk in NICK.items() if nk == given), given)
                recs.append(dict(
                    source=name, record_id=f"{name[:3].upper()}{len(recs):08d}", is_master=master,
                    source_primacy=primacy, link_enabled=link,
                    nhs_number=p.nhs if rng.random() < nhs_p else None,
                    given_name=given if names else None, given_name_formal=formal if names else None,
                    given_name_phonetic=phonetic(given) if names else None,
                    family_name=family if names else None, family_name_phonetic=phonetic(family) if names else None,
                    date_of_birth=dob, sex=p.sex if rng.random() < 0.98 else None, postcode=pc,
                    address=p.address if master else None, person_key=p.person_key))
    df = pd.DataFrame(recs)
    df["nhs_number_valid"] = df["nhs_number"].notna()
    df["date_of_birth"] = pd.to_datetime(df["date_of_birth"]).dt.date
    df["date_of_birth_issue"] = None
    df["postcode_as_delivered_normalised"] = df["postcode"]
    df["postcode_is_pseudo"] = False
    df["postcode_valid"] = df["postcode"].notna()
    df["postcode_outward"] = df["postcode"].str.split(" ").str[0]
    df["postcode_sector"] = df["postcode"].str[:-2]
    truth = df[["source", "record_id", "person_key"]].copy()
    return df[COLUMNS], truth, persons


def write_standardised(conn, records: pd.DataFrame) -> None:
    """Write `records` as intermediate.int_identifiers_standardised (what dbt would build)."""
    conn.execute("create schema if not exists intermediate")
    conn.register("__records", records)
    conn.execute("create or replace table intermediate.int_identifiers_standardised as select * from __records")
    conn.unregister("__records")


def link_records(data_dir, records: pd.DataFrame, *, relink: bool = False, retrain: bool = False,
                 run_id: str = "test", model_dir=None, cfg=None):
    """Write `records` as the standardised table in `data_dir` and run the cascade there.

    The caller must have pointed DL_DATA_DIR at `data_dir` (monkeypatch). Returns
    (record_person frame, link_diagnostics frame, CascadeResult).
    """
    from dl_platform.linkage.cascade.run import run_cascade
    from dl_platform.linkage.config import load_config
    from dl_platform.resources.warehouse import WarehouseResource
    from dl_platform.settings import get_settings

    # Fewer random pairs for u keeps training to a second on test-sized data.
    cfg = cfg or load_config().with_overrides(u_max_pairs=300_000)
    wh = WarehouseResource.from_settings()
    with wh.get_connection() as conn, wh.splink_api(conn) as db_api:
        write_standardised(conn, records)
        result = run_cascade(conn, db_api, cfg, model_dir or get_settings().models_dir,
                             run_id, retrain=retrain, relink=relink)
        rp = conn.execute("select * from mpi.record_person order by source, record_id").df()
        diag = conn.execute("select * from mpi.link_diagnostics order by source, record_id").df()
    return rp, diag, result
