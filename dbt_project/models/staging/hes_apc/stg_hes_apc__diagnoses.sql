-- one row per diagnosis position filled on a HES APC episode (DIAG_4_01 = primary)

with delivered as (
    {{ select_source_or_empty('raw', 'hes_apc__payload', ['record_id', 'DIAG_4_01', 'DIAG_4_02', 'DIAG_4_03', 'DIAG_4_04', 'DIAG_4_05', 'DIAG_4_06', 'DIAG_4_07', 'DIAG_4_08', 'DIAG_4_09', 'DIAG_4_10', 'DIAG_4_11', 'DIAG_4_12', 'DIAG_4_13', 'DIAG_4_14', 'DIAG_4_15', 'DIAG_4_16', 'DIAG_4_17', 'DIAG_4_18', 'DIAG_4_19', 'DIAG_4_20']) }}
),

unpivoted as (
    unpivot delivered
    on {% for i in range(1, 21) %}DIAG_4_{{ '%02d' % i }}{{ ", " if not loop.last }}{% endfor %}
    into name diagnosis_column value diagnosis_as_delivered
)

select
    record_id as episode_id,
    cast(right(diagnosis_column, 2) as integer) as diagnosis_position,
    {{ clean_icd10_code('diagnosis_as_delivered') }} as icd10_code
from unpivoted
where {{ clean_icd10_code('diagnosis_as_delivered') }} is not null
