{#- Select `columns` from `relation` (None = absent): missing columns become typed NULLs and a
    missing relation yields zero rows with the same columns. With `only`, columns not listed
    there are NULL too (a field the registry no longer maps is not read). See select_source_or_empty. -#}
{% macro select_relation_or_empty(relation, columns, column_type='varchar', only=none) -%}
    {%- if relation is none -%}
    select {% for c in columns %}cast(null as {{ column_type }}) as {{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %}
    where false
    {%- else -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    select {% for c in columns -%}
        {%- if c | lower in present and (only is none or c in only) %}{{ adapter.quote(c) }}{% else %}cast(null as {{ column_type }}) as {{ adapter.quote(c) }}{% endif %}{{ ", " if not loop.last }}
    {%- endfor %}
    from {{ relation }}
    {%- endif -%}
{%- endmacro %}
