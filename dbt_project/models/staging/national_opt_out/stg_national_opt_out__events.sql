-- one row per national data opt-out event (set or withdrawn); the NHS number stays in the identifiers table

with delivered as (
    {{ select_source_or_empty('raw', 'national_opt_out__payload', ['record_id', 'status', 'effective_date']) }}
)

select
    record_id as event_id,
    nullif(lower(trim(status)), '') as status,
    {{ parse_date('effective_date') }} as effective_date
from delivered
