-- one row per person and long-term condition found in their hospital diagnoses, with the first date.
-- The condition list is the ref_ltc_codes seed: a new condition is new rows there, no SQL change.

select
    diagnoses.person_id,
    codes.condition,
    min(diagnoses.diagnosis_date) as first_diagnosis_date,
    count(distinct diagnoses.episode_id) as episodes
from {{ ref('int_diagnoses_joined_to_persons') }} as diagnoses
inner join {{ ref('ref_ltc_codes') }} as codes
    on starts_with(diagnoses.icd10_code, upper(codes.icd10_prefix))
group by 1, 2
