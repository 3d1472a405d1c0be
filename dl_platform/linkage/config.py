"""Linkage configuration (`config/linkage.yml`): thresholds, guards and training settings.

Read once per process; every value has a default here so a registry without the file
still links. Run config on the assets can override thresholds for one run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from dl_platform.safe_yaml import load_yaml
from dl_platform.settings import PACKAGE_DIR

DEFAULT_CONFIG_FILE = PACKAGE_DIR / "config" / "linkage.yml"


@dataclass(frozen=True)
class LinkageConfig:
    """All tunable linkage settings (see `config/linkage.yml` for why each default)."""

    # None: chosen from the trained model (`thresholds.py`); a number fixes the threshold.
    master_match_probability: float | None = None
    multiple_match_weight_margin: float = 2.0
    bucket_match_probability: float | None = None
    sensitivity_delta: float = 0.05
    min_candidates_for_threshold: int = 300
    # Optional guards (off: the model weighs the evidence). Each counts the links it removes.
    require_dob_or_given_name: bool = False
    veto_on_dob_disagreement: bool = False
    veto_on_given_name_disagreement: bool = False
    u_max_pairs: int = 1_000_000
    em_max_pairs: int = 500_000
    seed: int = 42
    model_version: int = 2
    retrain_growth: float = 2.0
    retrain_completeness_shift: float = 0.15
    retrain_min_records: int = 10_000
    min_fields_without_nhs_number: int = 2

    def with_overrides(self, **overrides: Any) -> LinkageConfig:
        """A copy with the given (non-None) values replaced."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in overrides.items() if v is not None and k in known})


def parse_config(doc: dict[str, Any] | None) -> LinkageConfig:
    """Flatten the YAML sections into a `LinkageConfig`, rejecting unknown keys.

    Args:
        doc: The parsed YAML document (sections thresholds/guards/training/one_time).

    Returns:
        The configuration with defaults for anything not given.
    """
    known = {f.name for f in fields(LinkageConfig)}
    flat: dict[str, Any] = {}
    for section, values in (doc or {}).items():
        if not isinstance(values, dict):
            raise ValueError(f"linkage config: section '{section}' must be a mapping")
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"linkage config: unknown key '{section}.{key}'")
            flat[key] = value
    return LinkageConfig(**flat)


@lru_cache(maxsize=4)
def load_config(path: Path | str = DEFAULT_CONFIG_FILE) -> LinkageConfig:
    """The linkage configuration from `path` (defaults when the file is absent)."""
    path = Path(path)
    if not path.exists():
        return LinkageConfig()
    return parse_config(load_yaml(path))
