-- one row per linked adult social care event

select
    persons.person_id,
    events.event_id,
    events.la_code,
    events.reporting_period_start,
    events.event_type,
    events.event_start_date,
    events.event_end_date,
    {{ derive_financial_year('events.event_start_date') }} as financial_year,
    events.primary_support_reason,
    persons.link_step
from {{ ref('stg_asc_cld__events') }} as events
inner join {{ ref('int_records_joined_to_persons') }} as persons
    on persons.source = 'asc_cld' and persons.record_id = events.event_id
