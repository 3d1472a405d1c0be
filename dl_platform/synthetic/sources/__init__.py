"""One module per synthetic source; each returns its delivery files with per-record truth.

`BUILDERS` lists every builder in a fixed order: a builder's position fixes its random
stream, so it is part of determinism (new builders go at the end). A profile runs a subset.
`FIELDS` is the standard identifier fields each source delivers (its registry entry maps
the same set; a test holds them equal): an error kind strikes a source only on these.
"""

from dl_platform.synthetic.sources import asc, ecds, gp, hes, local_authority, optouts, pds, study

BUILDERS = {
    "pds": pds.build,
    "gp_registrations": gp.build,
    "hes_apc": hes.build,
    "ecds": ecds.build,
    "asc_cld": asc.build,
    "study_cohort": study.build,
    "opt_outs": optouts.build,
    "local_authority": local_authority.build,
}
STREAMS = {name: k for k, name in enumerate(BUILDERS, start=1)}

_PERSON = ("given_name", "family_name", "date_of_birth", "sex", "postcode")
FIELDS: dict[str, tuple[str, ...]] = {
    "pds": ("nhs_number", *_PERSON, "address"),
    "gp_registrations": ("nhs_number", *_PERSON),
    "hes_apc": ("nhs_number", "date_of_birth", "sex", "postcode"),
    "ecds": ("nhs_number", "date_of_birth", "sex", "postcode"),
    "asc_cld": ("nhs_number", *_PERSON),
    "study_cohort": ("nhs_number", *_PERSON, "address"),
    "national_opt_out": ("nhs_number",),
    "type1_opt_out": ("nhs_number",),
    "client_register": (*_PERSON, "address"),
    "referrals": _PERSON,
}
