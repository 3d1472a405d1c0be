"""Every tunable share and error rate of the synthetic population, in one place.

The corruption rates are the synthetic "truth" that linkage-quality and parity checks are
measured against, so they are plain dicts a reader can audit: a base rate per source and
error kind, multiplied per record by the factors of every subgroup the person belongs to.
The subgroup factors follow the linkage-bias literature (DOMAIN.md, "Linkage error is
not random"): missed matches are more common for ethnic-minority groups, young adults,
recent migrants and people in deprived areas.
"""

from __future__ import annotations

import numpy as np

REFERENCE_DATE = np.datetime64("2025-03-31")
PERIOD_START = np.datetime64("2015-04-01")

# ONS Census 2021 (England) high-level shares, split over NHS ethnic category codes.
# R (Chinese) sits under "Other" as in the NHS Data Dictionary grouping.
ETHNIC_CATEGORIES: dict[str, tuple[str, float, str]] = {
    # code: (ons_group, share, name pool)
    "A": ("White", 0.735, "english"),
    "B": ("White", 0.010, "irish"),
    "C": ("White", 0.072, "east_european"),
    "D": ("Mixed", 0.009, "english"),
    "E": ("Mixed", 0.008, "english"),
    "F": ("Mixed", 0.004, "english"),
    "G": ("Mixed", 0.008, "latin"),
    "H": ("Asian", 0.033, "south_asian"),
    "J": ("Asian", 0.029, "muslim"),
    "K": ("Asian", 0.012, "muslim"),
    "L": ("Asian", 0.019, "south_asian"),
    "M": ("Black", 0.011, "caribbean"),
    "N": ("Black", 0.025, "african"),
    "P": ("Black", 0.004, "caribbean"),
    "R": ("Other", 0.006, "chinese"),
    "S": ("Other", 0.015, "muslim"),
}
NOT_STATED_SHARE = 0.04  # PDS records ethnic category Z ("not stated") this often

HOUSEHOLD_SIZE_SHARES = {1: 0.30, 2: 0.35, 3: 0.15, 4: 0.13, 5: 0.05, 6: 0.02}  # mean ~2.34
PARTNER_SHARES_SURNAME = 0.8  # partners who share the household family name
MARRIED_NAME_CHANGE_SHARE = 0.35  # of those, share whose change falls inside the data period
DOUBLE_BARRELLED_SHARE = 0.03  # households with a hyphenated family name
TWIN_SHARE = 0.03  # households of 4+ where the two youngest are twins
MOVER_SHARE = 0.30  # households that moved inside 2016-2024 (previous postcode known)
RECENT_MIGRANT_SHARE = 0.05
RECENT_MIGRANT_NON_WHITE_ODDS = 4.0  # migrants are this much likelier in non-White households
DEATH_LOG_HAZARD = (-10.2, 0.092)  # annual death hazard exp(a + b * age): ~1 %/yr overall
DEATH_WINDOW_START = np.datetime64("2019-04-01")
UNREGISTERED_SHARE = 0.03  # persons with no GP registration at all

# Deprivation: relative weight of IMD deciles 1 (most deprived) .. 10 when choosing a home.
DECILE_WEIGHTS = {
    "White": np.linspace(0.85, 1.15, 10),
    "Mixed": np.linspace(1.5, 0.6, 10),
    "Asian": np.linspace(1.8, 0.5, 10),
    "Black": np.linspace(2.0, 0.4, 10),
    "Other": np.linspace(1.6, 0.6, 10),
}
YOUNG_ADULT_DECILE_TILT = np.linspace(1.4, 0.7, 10)  # households headed by 18-30s
LONDON_WEIGHT = {"White": 0.8, "Mixed": 2.5, "Asian": 2.5, "Black": 4.0, "Other": 3.0}

# Record-level corruption: base rate per source (share of records). Keys:
#   nhs_missing, nhs_typo (digit typo / transposition: fails Modulus 11), nhs_other_person
#   (a household member's valid number), given_typo, family_typo, nickname, name_swap
#   (given <-> family), double_barrel (one part / space instead of hyphen), given_missing,
#   dob_swap (day <-> month, only when still a valid date), dob_missing, sex_unknown,
#   postcode_stale (previous postcode after a move), postcode_missing, postcode_pseudo
#   (ZZ99), postcode_format (lower case / no space: fixable by normalisation).
ORIGINAL_KINDS = (
    "nhs_missing",
    "nhs_typo",
    "nhs_other_person",
    "given_typo",
    "family_typo",
    "nickname",
    "name_swap",
    "double_barrel",
    "given_missing",
    "dob_swap",
    "dob_missing",
    "sex_unknown",
    "postcode_stale",
    "postcode_missing",
    "postcode_pseudo",
    "postcode_format",
)
_NONE = dict.fromkeys(ORIGINAL_KINDS, 0.0)
CORRUPTION_RATES: dict[str, dict[str, float]] = {
    "pds": {**_NONE, "sex_unknown": 0.001, "postcode_pseudo": 0.002},
    "gp_registrations": {
        **_NONE,
        "nhs_missing": 0.01,
        "nhs_typo": 0.004,
        "given_typo": 0.01,
        "family_typo": 0.01,
        "nickname": 0.08,
        "name_swap": 0.004,
        "double_barrel": 0.3,
        "dob_swap": 0.004,
        "sex_unknown": 0.003,
        "postcode_stale": 0.05,
        "postcode_missing": 0.005,
        "postcode_pseudo": 0.002,
    },
    "hes_apc": {
        **_NONE,
        "nhs_missing": 0.015,
        "nhs_typo": 0.006,
        "nhs_other_person": 0.001,
        "dob_swap": 0.006,
        "dob_missing": 0.002,
        "sex_unknown": 0.005,
        "postcode_stale": 0.04,
        "postcode_missing": 0.01,
        "postcode_pseudo": 0.008,
    },
    "ecds": {
        **_NONE,
        "nhs_missing": 0.035,
        "nhs_typo": 0.01,
        "nhs_other_person": 0.002,
        "dob_swap": 0.01,
        "dob_missing": 0.005,
        "sex_unknown": 0.01,
        "postcode_stale": 0.06,
        "postcode_missing": 0.02,
        "postcode_pseudo": 0.01,
        "postcode_format": 0.03,
    },
    "asc_cld": {
        **_NONE,
        "nhs_missing": 0.30,
        "nhs_typo": 0.01,
        "given_typo": 0.03,
        "family_typo": 0.03,
        "nickname": 0.15,
        "name_swap": 0.01,
        "double_barrel": 0.4,
        "given_missing": 0.01,
        "dob_swap": 0.01,
        "dob_missing": 0.01,
        "sex_unknown": 0.02,
        "postcode_stale": 0.05,
        "postcode_missing": 0.02,
        "postcode_pseudo": 0.005,
        "postcode_format": 0.05,
    },
    "study_cohort": {
        **_NONE,
        "nhs_missing": 0.03,
        "nhs_typo": 0.005,
        "given_typo": 0.01,
        "family_typo": 0.01,
        "nickname": 0.05,
        "double_barrel": 0.2,
        "dob_swap": 0.005,
        "postcode_stale": 0.08,
        "postcode_missing": 0.01,
    },
    "national_opt_out": dict(_NONE),
    "type1_opt_out": dict(_NONE),
}

# Which error kinds each subgroup multiplies, and by how much. Factors multiply when a
# person is in several groups; the product is capped at MAX_RATE.
_IDENTITY_KINDS = ("nhs_missing", "nhs_typo")
_NAME_KINDS = ("given_typo", "family_typo", "name_swap", "given_missing", "family_missing")
SUBGROUP_FACTORS: dict[str, dict[str, float]] = {
    "ethnic_Asian": {**dict.fromkeys(_IDENTITY_KINDS, 1.8), **dict.fromkeys(_NAME_KINDS, 3.0)},
    "ethnic_Black": {**dict.fromkeys(_IDENTITY_KINDS, 2.0), **dict.fromkeys(_NAME_KINDS, 2.5)},
    "ethnic_Other": {**dict.fromkeys(_IDENTITY_KINDS, 2.0), **dict.fromkeys(_NAME_KINDS, 3.5)},
    "ethnic_Mixed": {**dict.fromkeys(_IDENTITY_KINDS, 1.3), **dict.fromkeys(_NAME_KINDS, 1.3)},
    "recent_migrant": {
        **dict.fromkeys(_IDENTITY_KINDS, 3.0),
        **dict.fromkeys(_NAME_KINDS, 2.5),
        "postcode_stale": 1.5,
        "dob_wrong": 2.0,  # an estimated date of birth at registration
    },
    "young_adult": {
        **dict.fromkeys(_IDENTITY_KINDS, 1.6),
        "postcode_stale": 2.0,
        "postcode_pseudo": 1.5,
    },
    "deprived": {
        **dict.fromkeys(_IDENTITY_KINDS, 1.4),
        "postcode_stale": 1.3,
        "postcode_pseudo": 2.0,
    },
}
MAX_RATE = 0.95
PSEUDO_POSTCODES = ("ZZ99 3VZ", "ZZ99 3CZ")  # no fixed abode; England, not otherwise specified

# Activity volumes (per person unless stated).
HES_ADMISSION_LOG_RATE = (-3.05, 0.024)  # spells per year ~ exp(a + b * age)
HES_MULTI_EPISODE_SHARE = 0.15
ECDS_BASE_RATE = 0.17  # attendances per person-year (2019-2025, ~1 per person)
ECDS_FREQUENT_SHARE = 0.02  # frequent attenders get 5-15 attendances
ASC_ADULT_SHARE = 0.08
STUDY_SHARE = 0.03
NATIONAL_OPT_OUT_SHARE = 0.05
TYPE1_OPT_OUT_SHARE = 0.02
OPT_OUT_WITHDRAWN_SHARE = 0.08  # of opted-out persons, share who later withdrew
DELTA_NEW_OPT_OUT_SHARE = 0.004
DELTA_WITHDRAWAL_SHARE = 0.05  # of currently opted-out persons
HES_INCREMENT_SHARE = 0.01
HES_INCREMENT_NEW_PERSONS = 0.0005  # brand-new persons (not in PDS), share of population
