"""The risk assessment lists every kind of flag, with counts only."""

import datetime as dt

import pandas as pd

from dl_platform.extracts.disclosure import protect_all
from dl_platform.extracts.kanonymity import anonymise
from dl_platform.extracts.risk import assess
from dl_platform.extracts.spec import DISCLOSURE_DEFAULTS, Aggregate


def test_every_risk_is_flagged_without_values():
    persons = pd.DataFrame(
        {
            "study_id": [f"S{i}" for i in range(30)],
            "year_of_birth": [1920] + [1980] * 29,
            "sex": ["F"] * 25 + ["M"] * 5,
            "notes": ["patient said the pain started after a fall at home"] * 30,
        }
    )
    aggregates = protect_all(persons, (Aggregate("by_sex", rows="sex"),), DISCLOSURE_DEFAULTS)
    _, report = anonymise(persons, ("sex",), 10, 0.05)
    flags = assess(
        cohort_size=30,
        threshold=10,
        aggregates=aggregates,
        kanon_report=report,
        persons=persons,
        extreme_age=100,
        on=dt.date(2025, 3, 31),
        payloads={"file2_payload": persons},
        file1_rows=30,
    )
    ids = {f.flag_id for f in flags}
    assert ids == {
        "small_cells:by_sex",
        "rare_combinations:file2_payload",
        "extreme_age:file2_payload",
        "free_text:file2_payload.notes",
        "identifiers:file1_identifiers",
    }
    text = " ".join(f.description for f in flags)
    assert "fall at home" not in text and "S0" not in text


def test_a_quiet_extract_has_no_flags_but_a_tiny_cohort_does():
    persons = pd.DataFrame(
        {"study_id": [f"S{i}" for i in range(40)], "year_of_birth": 1970, "sex": ["F", "M"] * 20}
    )
    aggregates = protect_all(persons, (Aggregate("by_sex", rows="sex"),), DISCLOSURE_DEFAULTS)
    _, report = anonymise(persons, ("sex",), 10, 0.05)
    common = dict(
        threshold=10,
        aggregates=aggregates,
        kanon_report=report,
        persons=persons,
        extreme_age=100,
        on=dt.date(2025, 3, 31),
        payloads={"file2_payload": persons},
        file1_rows=0,
    )
    assert assess(cohort_size=40, **common) == []
    assert [f.flag_id for f in assess(cohort_size=4, **common)] == ["small_cohort:cohort"]
