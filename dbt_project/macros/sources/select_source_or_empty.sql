{#- A select over a raw table that builds even when the source is not registered, has not
    delivered yet, or lacks some payload columns: present columns are selected as delivered,
    absent ones as typed NULLs, and an absent table yields zero rows. This is what lets a
    registry without, say, HES still run the whole `dbt build` (source-specific models are empty).

    Args:
      source_name, table_name: the dbt source (declared so lineage reaches raw/<source>).
      columns: column names to select, as delivered (matched case-insensitively).
      column_type: SQL type of the NULL stand-ins (raw columns are all VARCHAR). -#}
{% macro select_source_or_empty(source_name, table_name, columns, column_type='varchar') -%}
    {%- set declared = source(source_name, table_name) -%}
    {%- set relation = none -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(database=declared.database, schema=declared.schema, identifier=declared.identifier) -%}
    {%- endif -%}
    {{ select_relation_or_empty(relation, columns, column_type) }}
{%- endmacro %}
