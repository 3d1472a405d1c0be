"""A tiny pandas standardiser: synthetic landing files -> the standardised contract.

Test-only stand-in for the dbt model `intermediate.int_identifiers_standardised`, so the
linkage benchmarks and accuracy tests can run on `dl-platform synth` output without the
raw and dbt stages. Follows the contract's column rules (CONTRACTS.md).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
from population import COLUMNS, phonetic

from dl_platform.sources.registry import Registry

NICKNAMES = Path(__file__).resolve().parents[3] / "dl_platform" / "synthetic" / "data" / "nicknames.csv"
SEX = {"M": "M", "F": "F", "1": "M", "2": "F", "MALE": "M", "FEMALE": "F"}
POSTCODE = re.compile(r"^[A-PR-UWYZ][A-HK-Y]?[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")


def _read(source_dir: Path, encoding: str) -> pd.DataFrame:
    frames = []
    for f in sorted(source_dir.glob("*")):
        if f.suffix == ".parquet":
            frames.append(pd.read_parquet(f).astype("string"))
        elif f.suffix == ".csv":
            frames.append(pd.read_csv(f, dtype=str, encoding=encoding, keep_default_na=False))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _name(s: pd.Series) -> pd.Series:
    def clean(v):
        if v is None or pd.isna(v) or not str(v).strip():
            return None
        v = unicodedata.normalize("NFKD", str(v)).encode("ascii", "ignore").decode().upper()
        v = re.sub(r"[^A-Z ]+", " ", v.replace("-", " "))
        return re.sub(r"\s+", " ", v).strip() or None
    return s.map(clean)


def _nhs(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    digits = s.fillna("").str.replace(r"\D", "", regex=True)
    digits = digits.where(digits.str.len() == 10)

    def valid(v):
        if not isinstance(v, str) or len(set(v)) == 1:
            return False
        check = 11 - sum(int(d) * w for d, w in zip(v[:9], range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        return check != 10 and check == int(v[9])
    return digits, digits.map(valid).astype(bool)


def _dob(s: pd.Series) -> pd.Series:
    s = s.fillna("").str.strip()
    out = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    out = out.fillna(pd.to_datetime(s, format="%d/%m/%Y", errors="coerce"))
    out = out.fillna(pd.to_datetime(s, format="%Y%m%d", errors="coerce"))
    return out.dt.date


def _postcode(s: pd.Series) -> pd.DataFrame:
    raw = s.fillna("").str.upper().str.replace(r"\s", "", regex=True)
    norm = (raw.str[:-3] + " " + raw.str[-3:]).where(raw.str.len() >= 5)
    pseudo = norm.fillna("").str.startswith("ZZ99")
    valid = norm.fillna("").str.match(POSTCODE) & ~pseudo
    pc = norm.where(valid)
    return pd.DataFrame({"postcode": pc, "postcode_as_delivered_normalised": norm, "postcode_is_pseudo": pseudo,
                         "postcode_valid": valid, "postcode_outward": pc.str.split(" ").str[0],
                         "postcode_sector": pc.str[:-2]})


def standardise_landing(data_dir: Path, registry: Registry) -> pd.DataFrame:
    """Every registered source's landing files in the standardised contract's columns."""
    nick = dict(pd.read_csv(NICKNAMES, dtype=str).itertuples(index=False, name=None))
    out = []
    for src in registry:
        raw = _read(data_dir / "landing" / src.name, src.encoding)
        if raw.empty:
            continue
        col = {f: raw[c] if c in raw else pd.Series(None, index=raw.index, dtype="string")
               for f, c in src.identifiers.items()}
        none = pd.Series(None, index=raw.index, dtype="object")
        df = pd.DataFrame({"source": src.name, "record_id": col["record_id"].astype(str),
                           "is_master": src.is_master, "source_primacy": src.primacy, "link_enabled": src.link})
        df["nhs_number"], df["nhs_number_valid"] = _nhs(col.get("nhs_number", none))
        df["given_name"] = _name(col.get("given_name", none))
        df["given_name_formal"] = df["given_name"].map(lambda v: nick.get(v, v) if v else None)
        df["given_name_phonetic"] = df["given_name"].map(phonetic)
        df["family_name"] = _name(col.get("family_name", none))
        df["family_name_phonetic"] = df["family_name"].map(phonetic)
        df["date_of_birth"] = _dob(col.get("date_of_birth", none))
        df["date_of_birth_issue"] = None
        df["sex"] = col.get("sex", none).fillna("").str.strip().str.upper().map(SEX)
        df = pd.concat([df, _postcode(col.get("postcode", none))], axis=1)
        df["address"] = _name(col.get("address", none))
        out.append(df.drop_duplicates(["source", "record_id"], keep="last"))
    return pd.concat(out, ignore_index=True)[COLUMNS]
