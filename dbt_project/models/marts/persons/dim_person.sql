-- one row per MPI person: pseudonymous, non-identifying demographics for analysts

with golden as (
    select * from {{ ref('int_golden_records_cleaned') }}
),

pds as (
    -- the master register's death, ethnicity and practice; the most recent record if a person has several
    select persons.person_id, pds.date_of_death, pds.ethnic_category
    from {{ ref('stg_pds__demographics') }} as pds
    inner join {{ ref('int_records_joined_to_persons') }} as persons
        on persons.source = 'pds' and persons.record_id = pds.record_id
    qualify row_number() over (partition by persons.person_id order by pds.date_of_death desc nulls last, pds.record_id) = 1
),

hospital_ethnicity as (
    -- where PDS does not state ethnicity, the most recent stated hospital or A&E code
    select person_id, ethnic_category
    from (
        select persons.person_id, episodes.ethnic_category, episodes.episode_end_date as recorded_on
        from {{ ref('stg_hes_apc__episodes') }} as episodes
        inner join {{ ref('int_records_joined_to_persons') }} as persons
            on persons.source = 'hes_apc' and persons.record_id = episodes.episode_id
        union all
        select persons.person_id, attendances.ethnic_category, attendances.arrival_date
        from {{ ref('stg_ecds__attendances') }} as attendances
        inner join {{ ref('int_records_joined_to_persons') }} as persons
            on persons.source = 'ecds' and persons.record_id = attendances.attendance_id
    ) as stated
    where ethnic_category is not null and ethnic_category <> 'Z'
    qualify row_number() over (partition by person_id order by recorded_on desc nulls last, ethnic_category) = 1
),

registrations as (
    select
        person_id,
        bool_or(is_current) as has_current_registration,
        bool_or(deregistration_reason = 'death') as deregistered_for_death
    from {{ ref('fct_gp_registrations') }}
    group by 1
),

area as (
    select postcodes.postcode, postcodes.region, imd.imd_decile
    from {{ ref('ref_postcode_lsoa') }} as postcodes
    left join {{ ref('ref_lsoa_imd') }} as imd
        on imd.lsoa11 = postcodes.lsoa11
)

select
    golden.person_id,
    year(golden.date_of_birth) as year_of_birth,
    {{ derive_age_band('golden.date_of_birth', "cast('" ~ var('age_reference_date') ~ "' as date)") }} as age_band,
    golden.sex,
    coalesce(
        nullif(ethnic_pds.ons_group, 'Not stated'),
        ethnic_hospital.ons_group,
        'Not stated'
    ) as ethnic_group,
    area.imd_decile,
    cast(ceil(area.imd_decile / 2.0) as integer) as imd_quintile,
    area.region,
    coalesce(pds.date_of_death is not null or registrations.deregistered_for_death, false) as is_deceased,
    strftime(pds.date_of_death, '%Y-%m') as death_year_month,
    case
        when registrations.has_current_registration then 'registered'
        when registrations.person_id is not null then 'deregistered'
        else 'no_registration_found'
    end as registration_status
from golden
left join pds
    on pds.person_id = golden.person_id
left join {{ ref('ref_ethnic_category') }} as ethnic_pds
    on ethnic_pds.ethnic_category = pds.ethnic_category
left join hospital_ethnicity
    on hospital_ethnicity.person_id = golden.person_id
left join {{ ref('ref_ethnic_category') }} as ethnic_hospital
    on ethnic_hospital.ethnic_category = hospital_ethnicity.ethnic_category
left join registrations
    on registrations.person_id = golden.person_id
left join area
    on area.postcode = golden.postcode
