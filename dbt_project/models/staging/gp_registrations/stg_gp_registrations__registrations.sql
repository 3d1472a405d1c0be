-- one row per GP registration spell (registration_id)

with delivered as (
    {{ select_source_or_empty('raw', 'gp_registrations__payload', ['record_id', 'practice_code', 'registration_date', 'deregistration_date', 'deregistration_reason']) }}
)

select
    record_id,
    nullif(upper(trim(practice_code)), '') as practice_code,
    {{ parse_date('registration_date') }} as registration_date,
    {{ parse_date('deregistration_date') }} as deregistration_date,
    nullif(lower(trim(deregistration_reason)), '') as deregistration_reason
from delivered
