{#- The long-term conditions in the ref_ltc_codes seed, sorted, read when the model runs (so a new
    condition needs only seed rows). At parse time, and before the seed exists, an empty list. -#}
{% macro list_ltc_conditions() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set seed = ref('ref_ltc_codes') -%}
    {%- set relation = adapter.get_relation(database=seed.database, schema=seed.schema, identifier=seed.identifier) -%}
    {%- if relation is none -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query("select distinct lower(condition) as condition from " ~ relation ~ " order by 1") -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}
