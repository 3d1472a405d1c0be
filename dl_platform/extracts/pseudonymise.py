"""Per-project pseudonyms: study IDs and encrypted (`_e`) grouping codes.

Derivation (documented so an auditor can reproduce it):
    project_key = HMAC-SHA256(key=DL_PSEUDONYMISATION_KEY, msg="study-id:" + project_id)
    study_id    = "S" + HMAC-SHA256(key=project_key, msg=person_id).hexdigest()[:20]
    <col>_e     = "E" + HMAC-SHA256(key=project_key, msg=<col> + ":" + value).hexdigest()[:16]

A keyed HMAC is the stronger form of Open Pseudonymiser's salted SHA-256 (DOMAIN.md).
Deriving the key per project means two projects' extracts share no study IDs and cannot
be joined; the same platform key gives the same IDs on every rerun.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

KEY_HELP = (
    "DL_PSEUDONYMISATION_KEY is not set: extracts need the platform's secret pseudonymisation key. "
    "Set it in the environment (e.g. `export DL_PSEUDONYMISATION_KEY=$(cat $DL_DATA_DIR/.secrets/"
    "pseudonymisation_key)`; `dl-platform demo` generates a local demo key there). Never commit it."
)


class MissingKeyError(RuntimeError):
    """The pseudonymisation key is absent; the message says how to set it."""


def require_key(key: str | None) -> str:
    """The platform key, or a clear error saying how to provide it."""
    if not key:
        raise MissingKeyError(KEY_HELP)
    return key


def project_key(platform_key: str, project_id: str) -> bytes:
    """The project's own HMAC key, derived from the platform key and the project id.

    Args:
        platform_key: DL_PSEUDONYMISATION_KEY.
        project_id: The project's id.

    Returns:
        32 key bytes unique to (platform key, project).
    """
    return hmac.new(
        require_key(platform_key).encode(), f"study-id:{project_id}".encode(), hashlib.sha256
    ).digest()


def _hmac_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def study_ids(person_ids: pd.Series, key: bytes) -> pd.Series:
    """Study IDs for person_ids under one project key (same input and key -> same IDs)."""
    return person_ids.astype(str).map(lambda p: "S" + _hmac_hex(key, p)[:20])


def encrypt_codes(values: pd.Series, key: bytes, column: str) -> pd.Series:
    """Encrypt a below-region code (LSOA, postcode, organisation) so it still groups.

    Equal values map to equal codes within a project; nulls stay null. The column name is
    part of the message so the same code in two columns does not give the same pseudonym.
    """

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
            return None
        return "E" + _hmac_hex(key, f"{column}:{v}")[:16]

    return values.map(one).astype("object")
