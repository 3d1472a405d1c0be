"""Error profiles for the synthetic population: how harsh its deliveries are, as data.

A profile is rates (per source and error kind, see `error_kinds.py`), a population shape,
the sources to build and the registry they are described by. `dl-platform synth --profile X`
generates it and `--list-profiles` prints every profile's rates (`describe`).

Rates are base shares of a source's records. Like the gentle rates in `config.py` they are
multiplied per person by the subgroup factors (`config.SUBGROUP_FACTORS`: ethnic group,
recent migrant, young adult, deprived area; product capped at `config.MAX_RATE`), because
linkage error is not random. Kinds marked eligible apply only to such records (a nickname
only to given names that have one) and their rate is a share of those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dl_platform.settings import DEFAULT_SOURCES_FILE, PACKAGE_DIR
from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.error_kinds import BY_NAME, KINDS
from dl_platform.synthetic.population import PopulationShape
from dl_platform.synthetic.sources import FIELDS

PROFILES_DIR = PACKAGE_DIR / "config" / "profiles"
NHS_REGISTRY = ("pds", "gp_registrations", "hes_apc", "ecds", "asc_cld", "study_cohort", "opt_outs")
CONTRIBUTING = ("gp_registrations", "hes_apc", "ecds", "asc_cld", "study_cohort")
HOSPITAL = ("hes_apc", "ecds")

# Record-level errors of the harsh profile, in every contributing source (only on the fields
# it delivers). A few percent each, so that about a quarter of records carry one: the level
# of FEBRL-style hospital feeds, where a clerk keys, swaps or replaces a field.
HARSH_RECORD = {
    "given_replaced": 0.03,
    "family_replaced": 0.02,
    "name_swap": 0.02,
    "given_initial": 0.03,
    "nickname": 0.05,
    "given_typo": 0.03,
    "family_typo": 0.03,
    "typo_multi": 0.02,
    "given_missing": 0.02,
    "family_missing": 0.01,
    "dob_wrong": 0.02,
    "dob_swap": 0.05,  # of eligible dates (~36%): ~1.8% of records
    "dob_digit": 0.02,
    "dob_impossible": 0.015,
    "dob_missing": 0.02,
    "sex_unknown": 0.02,
    "postcode_replaced": 0.02,
    "postcode_stale": 0.10,
    "postcode_missing": 0.03,
    "postcode_pseudo": 0.01,
    "postcode_format": 0.05,
    "address_replaced": 0.02,
}
# NHS numbers in the harsh profile. Hospital feeds: 5% blank, 1% transposed, 0.6% another
# person's valid number. The social-care feed keeps the column but blanks half of it (the
# shared registry maps nhs_number for every source, so the column cannot be dropped); with
# the subgroup factors ~40% stay, above the platform's 30% completeness gate for the feed.
HARSH_NHS = {
    **dict.fromkeys(
        HOSPITAL,
        {
            "nhs_missing": 0.05,
            "nhs_transposed": 0.01,
            "nhs_other_person": 0.003,
            "nhs_random_person": 0.003,
        },
    ),
    "gp_registrations": {"nhs_missing": 0.02, "nhs_transposed": 0.005},
    "asc_cld": {"nhs_missing": 0.50},
    "study_cohort": {"nhs_missing": 0.10, "nhs_transposed": 0.005},
}
# Mixed writing within a source: only what dbt's parse_date / standardise_name absorb.
HOUSEHOLD_FORMATS = {"name_format": 0.15, "dob_format": 0.15, "postcode_format": 0.08}
MASTER_DUPLICATE = {
    "nickname": 0.2,
    "given_typo": 0.05,
    "family_typo": 0.05,
    "dob_swap": 0.05,
    "dob_digit": 0.02,
}
DEDUPE_ORIGINAL = {
    "nickname": 0.05,
    "given_typo": 0.01,
    "family_typo": 0.01,
    "double_barrel": 0.2,
    "dob_swap": 0.01,
    "dob_missing": 0.005,
    "sex_unknown": 0.01,
    "postcode_missing": 0.01,
    "postcode_format": 0.03,
}
# P(a person has k duplicates), k = 0..9: many singletons, a long tail up to 10 records.
DEDUPE_DUPLICATES = (0.55, 0.16, 0.10, 0.065, 0.045, 0.03, 0.02, 0.014, 0.01, 0.006)


@dataclass(frozen=True)
class Profile:
    """One way to generate the population: its rates, households, sources and registry."""

    name: str
    description: str
    rates: dict[str, dict[str, float]]  # source, or 'source:duplicate' -> kind -> rate
    population: PopulationShape = field(default_factory=PopulationShape)
    builders: tuple[str, ...] = NHS_REGISTRY
    registry: Path = DEFAULT_SOURCES_FILE
    master_duplicate_share: float = 0.0  # persons with a second master record
    duplicate_counts: tuple[float, ...] = ()  # dedupe: P(k duplicates)
    new_persons: bool = True  # a few persons outside the register, in the HES refresh only

    def rates_for(self, source: str, variant: str | None = None) -> dict[str, float]:
        """Rates for a source's records (`variant` 'duplicate' for a register's duplicates)."""
        key = f"{source}:{variant}" if variant else source
        return self.rates.get(key, {})


def _only_delivered(source: str, rates: dict[str, float]) -> dict[str, float]:
    """Drop kinds on fields the source does not deliver (HES has no names)."""
    fields = set(FIELDS[source.split(":")[0]])
    return {k: r for k, r in rates.items() if r > 0 and set(BY_NAME[k].fields) & fields}


def _harsh(source: str) -> dict[str, float]:
    gentle = cfg.CORRUPTION_RATES[source]
    extra = {**HARSH_RECORD, **HARSH_NHS.get(source, {})}
    merged = {k: max(gentle.get(k, 0.0), extra.get(k, 0.0)) for k in {*gentle, *extra}}
    return _only_delivered(source, merged)


def _blend(source: str, share: float) -> dict[str, float]:
    """Rates `share` of the way from gentle to harsh."""
    gentle, harsh = cfg.CORRUPTION_RATES[source], _harsh(source)
    return {k: gentle.get(k, 0.0) + share * (r - gentle.get(k, 0.0)) for k, r in harsh.items()}


def _gentle_rates() -> dict[str, dict[str, float]]:
    return {s: dict(r) for s, r in cfg.CORRUPTION_RATES.items()}


def _household_rates() -> dict[str, dict[str, float]]:
    rates = _gentle_rates()
    for source in CONTRIBUTING:
        blended = _blend(source, 0.4)
        blended.update(HOUSEHOLD_FORMATS)
        blended["postcode_stale"] = 0.25
        rates[source] = _only_delivered(source, blended)
    rates["pds:duplicate"] = _only_delivered("pds", MASTER_DUPLICATE)
    return rates


def _dedupe_rates() -> dict[str, dict[str, float]]:
    duplicate = {**HARSH_RECORD, "double_barrel": 0.3, "name_format": 0.05, "dob_format": 0.05}
    return {
        "client_register": _only_delivered("client_register", DEDUPE_ORIGINAL),
        "client_register:duplicate": _only_delivered("client_register", duplicate),
        "referrals:duplicate": _only_delivered("referrals", duplicate),
    }


# Harsh but real: twins are about 3% of people in England (1.5% of maternities, two children
# each); here about 4%. A child named after the parent of the same sex, a few per cent.
HOUSEHOLD_SHAPE = PopulationShape(
    household_sizes={1: 0.15, 2: 0.28, 3: 0.20, 4: 0.22, 5: 0.10, 6: 0.05},
    twin_share=0.04,
    mover_share=0.45,
    namesake_share=0.05,
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "gentle",
            "the original generator: PDS master plus five NHS-numbered feeds, light errors",
            _gentle_rates(),
        ),
        Profile(
            "harsh",
            "same registry and people as gentle; every contributing feed gets replaced, "
            "swapped, mistyped, wrong and impossible values at a few percent each",
            {**_gentle_rates(), **{s: _harsh(s) for s in CONTRIBUTING}},
        ),
        Profile(
            "household",
            "bigger households, twins, namesake parent and child, movers, mixed date and name "
            "writing, a few duplicate PDS records; record errors 40% of the way to harsh",
            _household_rates(),
            population=HOUSEHOLD_SHAPE,
            master_duplicate_share=0.0003,
        ),
        Profile(
            "dedupe",
            "no master, no NHS numbers: a local-authority client register (1 to 10 records "
            "a person) and a referrals feed of duplicates with harsh errors; households as in "
            "'household'",
            _dedupe_rates(),
            population=HOUSEHOLD_SHAPE,
            builders=("local_authority",),
            registry=PROFILES_DIR / "dedupe.yml",
            duplicate_counts=DEDUPE_DUPLICATES,
            new_persons=False,
        ),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called `name`.

    Raises:
        KeyError: no such profile (the message lists the known ones).
    """
    if name not in PROFILES:
        raise KeyError(f"unknown profile '{name}' (known: {', '.join(PROFILES)})")
    return PROFILES[name]


def registry_path(name: str) -> Path:
    """The source registry (DL_SOURCES_FILE) that describes a profile's deliveries."""
    return get_profile(name).registry


def _percent(rate: float) -> str:
    return "-" if rate <= 0 else f"{100 * rate:.2f}".rstrip("0").rstrip(".")


def describe(profile: Profile) -> str:
    """A profile's description, population shape and rate table (percent of records)."""
    shape = profile.population
    sizes = " ".join(f"{k}:{100 * v:.0f}%" for k, v in shape.household_sizes.items())
    lines = [
        f"{profile.name}: {profile.description}",
        f"  registry: {profile.registry}",
        f"  households by size: {sizes}; twins in {100 * 4 * shape.twin_share:.0f}% of 4+ "
        f"households; movers {100 * shape.mover_share:.0f}% of households; first children "
        f"of the head's sex named after the head (Jr/Sr) {100 * shape.namesake_share:.0f}%",
    ]
    if profile.master_duplicate_share:
        lines.append(
            f"  master duplicates: {100 * profile.master_duplicate_share:.2f}% of persons "
            "(at least one)"
        )
    if profile.duplicate_counts:
        counts = " ".join(f"{k}:{100 * p:.1f}%" for k, p in enumerate(profile.duplicate_counts))
        lines.append(f"  duplicates a person: {counts}")
    keys = [k for k, r in profile.rates.items() if any(v > 0 for v in r.values())]
    kinds = [k.name for k in KINDS if any(profile.rates[s].get(k.name, 0) > 0 for s in keys)]
    width = [max(6, len(k)) for k in keys]
    lines.append("  rates, % of records (* = of eligible records, see the legend):")
    lines.append(
        "  " + f"{'kind':<20}" + " ".join(f"{k:>{w}}" for k, w in zip(keys, width, strict=True))
    )
    for kind in kinds:
        mark = "*" if BY_NAME[kind].eligible else " "
        cells = " ".join(
            f"{_percent(profile.rates[k].get(kind, 0.0)):>{w}}"
            for k, w in zip(keys, width, strict=True)
        )
        lines.append(f"  {kind + mark:<20}{cells}")
    return "\n".join(lines)


def legend() -> str:
    """What every error kind does and which records it can strike."""
    lines = [
        "error kinds (base rates x subgroup factors, capped at "
        f"{100 * cfg.MAX_RATE:.0f}%; listed per record in truth.parquet `errors`):"
    ]
    for kind in KINDS:
        only = f" [only {kind.eligible}]" if kind.eligible else ""
        lines.append(f"  {kind.name:<18} {kind.doc}{only}")
    return "\n".join(lines)


def describe_all() -> str:
    """Every profile, then the legend: the text of `dl-platform synth --list-profiles`."""
    return "\n\n".join([*(describe(p) for p in PROFILES.values()), legend()])
