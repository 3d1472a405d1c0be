-- one row per linked GP registration spell

select
    persons.person_id,
    registrations.record_id as registration_id,
    registrations.practice_code,
    practices.region as practice_region,
    registrations.registration_date,
    registrations.deregistration_date,
    registrations.deregistration_reason,
    registrations.deregistration_date is null as is_current,
    persons.link_step
from {{ ref('stg_gp_registrations__registrations') }} as registrations
inner join {{ ref('int_records_joined_to_persons') }} as persons
    on persons.source = 'gp_registrations' and persons.record_id = registrations.record_id
left join {{ ref('ref_gp_practices') }} as practices
    on practices.practice_code = registrations.practice_code
