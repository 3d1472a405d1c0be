-- one row per linked study participant: consent basis and permissions, under a pseudonymous reference

select
    persons.person_id,
    -- a one-way hash, so analysts can count and deduplicate participants without the study's own id
    sha256('study_cohort:' || participants.participant_id) as participant_ref,
    participants.consent_basis,
    participants.perm_nhse_linkage,
    participants.perm_gp_data,
    participants.perm_hes_data,
    participants.enrolment_date,
    coalesce(participants.withdrawn, false) as withdrawn
from {{ ref('stg_study_cohort__participants') }} as participants
inner join {{ ref('int_records_joined_to_persons') }} as persons
    on persons.source = 'study_cohort' and persons.record_id = participants.participant_id
