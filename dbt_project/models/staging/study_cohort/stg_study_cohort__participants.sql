-- one row per study participant: consent basis and linkage permissions

with delivered as (
    {{ select_source_or_empty('raw', 'study_cohort__payload', ['record_id', 'consent_basis', 'perm_nhse_linkage', 'perm_gp_data', 'perm_hes_data', 'enrolment_date', 'withdrawn']) }}
)

select
    record_id as participant_id,
    nullif(lower(trim(consent_basis)), '') as consent_basis,
    {{ parse_yes_no('perm_nhse_linkage') }} as perm_nhse_linkage,
    {{ parse_yes_no('perm_gp_data') }} as perm_gp_data,
    {{ parse_yes_no('perm_hes_data') }} as perm_hes_data,
    {{ parse_date('enrolment_date') }} as enrolment_date,
    {{ parse_yes_no('withdrawn') }} as withdrawn
from delivered
