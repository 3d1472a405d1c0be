"""k-anonymity: after protection every quasi-identifier class has at least k records."""

import numpy as np
import pandas as pd
import pytest

from dl_platform.extracts.kanonymity import anonymise, min_class_size


def people(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lo = rng.integers(4, 18, n) * 5
    return pd.DataFrame(
        {
            "study_id": [f"S{i}" for i in range(n)],
            "age_band": [f"{a}-{a + 4}" for a in lo],
            "sex": rng.choice(["F", "M"], n),
            "region": rng.choice(["N", "S", "E", "W"], n),
            "ethnic_group": rng.choice(
                ["White", "Asian", "Black", "Mixed"], n, p=[0.8, 0.1, 0.07, 0.03]
            ),
        }
    )


@pytest.mark.parametrize("seed, n, k", [(1, 300, 10), (2, 1500, 10), (3, 60, 5), (4, 9, 10)])
def test_k_anonymity_holds_and_is_reported(seed, n, k):
    qis = ("age_band", "sex", "region", "ethnic_group")
    frame = people(seed, n)
    out, report = anonymise(frame, qis, k, 0.05)
    if len(out):
        assert min_class_size(out, qis) >= k
    assert report["records_out"] == len(out) == n - report["records_withheld"]
    assert report["records_in_small_classes_before"] > 0
    assert set(out["study_id"]) <= set(frame["study_id"])


def test_nothing_changes_when_already_k_anonymous():
    frame = pd.DataFrame({"study_id": range(40), "sex": ["F", "M"] * 20})
    out, report = anonymise(frame, ("sex",), 10, 0.05)
    assert out["sex"].tolist() == frame["sex"].tolist()
    assert report["generalisations"] == [] and report["records_suppressed"] == 0
