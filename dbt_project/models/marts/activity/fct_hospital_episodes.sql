-- one row per linked HES APC finished consultant episode

with diagnosis_counts as (
    select episode_id, count(*) as diagnosis_count
    from {{ ref('stg_hes_apc__diagnoses') }}
    group by 1
),

primary_diagnosis as (
    select episode_id, icd10_code
    from {{ ref('stg_hes_apc__diagnoses') }}
    where diagnosis_position = 1
)

select
    persons.person_id,
    episodes.episode_id,
    coalesce(episodes.fyear, {{ derive_financial_year('episodes.episode_end_date') }}) as financial_year,
    year(episodes.episode_end_date) as calendar_year,
    episodes.admission_date,
    episodes.episode_start_date,
    episodes.episode_end_date,
    episodes.discharge_date,
    episodes.episode_order,
    episodes.admission_method,
    case
        when left(episodes.admission_method, 1) = '1' then 'elective'
        when left(episodes.admission_method, 1) = '2' then 'emergency'
        when episodes.admission_method is not null then 'other'
    end as admission_type,
    episodes.provider_code,
    primary_diagnosis.icd10_code as primary_diagnosis_icd10,
    coalesce(diagnosis_counts.diagnosis_count, 0) as diagnosis_count,
    episodes.main_procedure as main_procedure_opcs4,
    persons.link_step
from {{ ref('stg_hes_apc__episodes') }} as episodes
inner join {{ ref('int_records_joined_to_persons') }} as persons
    on persons.source = 'hes_apc' and persons.record_id = episodes.episode_id
left join diagnosis_counts
    on diagnosis_counts.episode_id = episodes.episode_id
left join primary_diagnosis
    on primary_diagnosis.episode_id = episodes.episode_id
