-- one row per diagnosis on a linked HES APC episode, with the person and the episode's dates

select
    persons.person_id,
    episodes.episode_id,
    diagnoses.diagnosis_position,
    diagnoses.icd10_code,
    coalesce(episodes.episode_start_date, episodes.admission_date, episodes.episode_end_date) as diagnosis_date
from {{ ref('stg_hes_apc__diagnoses') }} as diagnoses
inner join {{ ref('stg_hes_apc__episodes') }} as episodes
    on episodes.episode_id = diagnoses.episode_id
inner join {{ ref('int_records_joined_to_persons') }} as persons
    on persons.source = 'hes_apc'
   and persons.record_id = episodes.episode_id
