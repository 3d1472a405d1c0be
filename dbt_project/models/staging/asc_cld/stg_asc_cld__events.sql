-- one row per adult social care event (request, assessment, service or review)

with delivered as (
    {{ select_source_or_empty('raw', 'asc_cld__payload', ['record_id', 'la_code', 'reporting_period_start', 'event_type', 'event_start_date', 'event_end_date', 'primary_support_reason', 'ethnicity']) }}
)

select
    record_id as event_id,
    nullif(upper(trim(la_code)), '') as la_code,
    {{ parse_date('reporting_period_start') }} as reporting_period_start,
    nullif(trim(event_type), '') as event_type,
    {{ parse_date('event_start_date') }} as event_start_date,
    {{ parse_date('event_end_date') }} as event_end_date,
    nullif(trim(primary_support_reason), '') as primary_support_reason,
    {{ clean_ethnic_category('ethnicity') }} as ethnic_category
from delivered
