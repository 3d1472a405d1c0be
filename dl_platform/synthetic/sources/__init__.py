"""One module per synthetic source; each returns its delivery files with per-record truth.

`BUILDERS` is the list the generator runs, in a fixed order (the order fixes each source's
random stream, so it is part of determinism).
"""

from dl_platform.synthetic.sources import asc, ecds, gp, hes, optouts, pds, study

BUILDERS = {
    "pds": pds.build,
    "gp_registrations": gp.build,
    "hes_apc": hes.build,
    "ecds": ecds.build,
    "asc_cld": asc.build,
    "study_cohort": study.build,
    "opt_outs": optouts.build,
}
