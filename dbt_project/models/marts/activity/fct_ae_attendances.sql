-- one row per linked emergency care (A&E) attendance

select
    persons.person_id,
    attendances.attendance_id,
    attendances.arrival_date,
    {{ derive_financial_year('attendances.arrival_date') }} as financial_year,
    attendances.arrival_time,
    attendances.arrival_mode_snomed,
    attendances.chief_complaint_snomed,
    attendances.primary_diagnosis_snomed,
    attendances.site_code,
    persons.link_step
from {{ ref('stg_ecds__attendances') }} as attendances
inner join {{ ref('int_records_joined_to_persons') }} as persons
    on persons.source = 'ecds' and persons.record_id = attendances.attendance_id
