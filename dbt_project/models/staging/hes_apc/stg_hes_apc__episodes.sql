-- one row per HES APC finished consultant episode (EPIKEY); diagnoses are unpivoted in stg_hes_apc__diagnoses

with delivered as (
    {{ select_source_or_empty('raw', 'hes_apc__payload', ['record_id', 'FYEAR', 'ADMIDATE', 'EPISTART', 'EPIEND', 'DISDATE', 'EPIORDER', 'ADMIMETH', 'ETHNOS', 'PROCODET', 'OPERTN_4_01', 'OPERTN_4_02', 'OPERTN_4_03', 'OPERTN_4_04']) }}
)

select
    record_id as episode_id,
    {{ format_fyear('FYEAR') }} as fyear,
    {{ parse_date('ADMIDATE') }} as admission_date,
    {{ parse_date('EPISTART') }} as episode_start_date,
    {{ parse_date('EPIEND') }} as episode_end_date,
    {{ parse_date('DISDATE') }} as discharge_date,
    try_cast(EPIORDER as integer) as episode_order,
    nullif(trim(ADMIMETH), '') as admission_method,
    {{ clean_ethnic_category('ETHNOS') }} as ethnic_category,
    nullif(upper(trim(PROCODET)), '') as provider_code,
    {{ clean_icd10_code('OPERTN_4_01') }} as main_procedure
from delivered
