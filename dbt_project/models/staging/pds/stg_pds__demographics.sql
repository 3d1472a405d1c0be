-- one row per PDS record: death, stated ethnicity and registered practice

with delivered as (
    {{ select_source_or_empty('raw', 'pds__payload', ['record_id', 'date_of_death', 'ethnic_category', 'gp_practice_code']) }}
)

select
    record_id,
    {{ parse_date('date_of_death') }} as date_of_death,
    {{ clean_ethnic_category('ethnic_category') }} as ethnic_category,
    nullif(upper(trim(gp_practice_code)), '') as gp_practice_code
from delivered
