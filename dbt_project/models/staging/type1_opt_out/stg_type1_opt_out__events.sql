-- one row per GP type-1 opt-out event (set or withdrawn) at a practice

with delivered as (
    {{ select_source_or_empty('raw', 'type1_opt_out__payload', ['record_id', 'practice_code', 'status', 'effective_date']) }}
)

select
    record_id as event_id,
    nullif(upper(trim(practice_code)), '') as practice_code,
    nullif(lower(trim(status)), '') as status,
    {{ parse_date('effective_date') }} as effective_date
from delivered
