-- one row per emergency care attendance (ec_ident)

with delivered as (
    {{ select_source_or_empty('raw', 'ecds__payload', ['record_id', 'arrival_date', 'arrival_time', 'arrival_mode', 'chief_complaint', 'diagnosis_1', 'site_code', 'ethnic_category']) }}
)

select
    record_id as attendance_id,
    {{ parse_date('arrival_date') }} as arrival_date,
    nullif(trim(arrival_time), '') as arrival_time,
    nullif(trim(arrival_mode), '') as arrival_mode_snomed,
    nullif(trim(chief_complaint), '') as chief_complaint_snomed,
    nullif(trim(diagnosis_1), '') as primary_diagnosis_snomed,
    nullif(upper(trim(site_code)), '') as site_code,
    {{ clean_ethnic_category('ethnic_category') }} as ethnic_category
from delivered
