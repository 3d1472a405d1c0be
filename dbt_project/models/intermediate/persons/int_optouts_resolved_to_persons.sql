-- one row per person and opt-out list the person is currently opted out of. Opt-out lists carry only
-- an NHS number (they are not linked records): the latest event per valid NHS number decides the
-- status, and the person is every MPI person holding a record with that NHS number.

with events as (
    select 'national_opt_out' as opt_out_list, event_id, status, effective_date
    from {{ ref('stg_national_opt_out__events') }}
    union all
    select 'type1_opt_out' as opt_out_list, event_id, status, effective_date
    from {{ ref('stg_type1_opt_out__events') }}
),

events_with_nhs_number as (
    select events.*, identifiers.nhs_number
    from events
    inner join {{ ref('int_identifiers_standardised') }} as identifiers
        on identifiers.source = events.opt_out_list
       and identifiers.record_id = events.event_id
    where identifiers.nhs_number_valid
),

latest_status as (
    select opt_out_list, nhs_number, status, effective_date
    from events_with_nhs_number
    qualify row_number() over (
        partition by opt_out_list, nhs_number order by effective_date desc nulls last, event_id desc
    ) = 1
),

persons_by_nhs_number as (
    select distinct identifiers.nhs_number, persons.person_id
    from {{ ref('int_identifiers_standardised') }} as identifiers
    inner join {{ ref('int_records_joined_to_persons') }} as persons
        on persons.source = identifiers.source
       and persons.record_id = identifiers.record_id
    where identifiers.nhs_number_valid
)

select distinct
    persons_by_nhs_number.person_id,
    latest_status.opt_out_list,
    latest_status.effective_date as opted_out_since
from latest_status
inner join persons_by_nhs_number
    on persons_by_nhs_number.nhs_number = latest_status.nhs_number
where latest_status.status = 'opted_out'
qualify row_number() over (partition by persons_by_nhs_number.person_id, latest_status.opt_out_list order by latest_status.effective_date) = 1
