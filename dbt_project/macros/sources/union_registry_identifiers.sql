{#- Union of raw.<source>__identifiers over every source in the registry (var dl_sources,
    passed by Dagster), one row per record, with the registry's role, primacy and link flag as
    columns. No source name is written here: adding a dataset to sources.yml adds its rows.
    `loaded_at` is the raw `_loaded_at` of the record's delivery: the linkage links only records
    loaded since its last run (a record re-delivered is loaded again).
    A source that maps fewer fields (dl_sources[].fields) gets NULLs for the rest; a registered source whose raw table
    does not exist yet contributes nothing; an empty registry yields zero typed rows. -#}
{% macro union_registry_identifiers(fields) -%}
    {%- set ns = namespace(parts=[]) -%}
    {%- if execute -%}
        {%- for src in var('dl_sources', []) -%}
            {%- set relation = adapter.get_relation(database=target.database, schema='raw', identifier=src.name ~ '__identifiers') -%}
            {%- if relation is not none -%}
                {%- set part -%}
    select
        '{{ src.name }}' as source,
        {{ 'true' if src.role == 'master' else 'false' }} as is_master,
        cast({{ src.primacy | int }} as integer) as source_primacy,
        {{ 'true' if src.get('link', true) else 'false' }} as link_enabled,
        delivered.* exclude (_loaded_at),
        cast(delivered._loaded_at as timestamp) as loaded_at
    from ({{ select_relation_or_empty(relation, fields + ['_loaded_at'],
                                      only=(src.fields + ['_loaded_at']) if src.get('fields') else none) }}) as delivered
                {%- endset -%}
                {%- do ns.parts.append(part) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if ns.parts | length == 0 %}
    select cast(null as varchar) as source, cast(null as boolean) as is_master,
        cast(null as integer) as source_primacy, cast(null as boolean) as link_enabled,
        {% for f in fields %}cast(null as varchar) as {{ f }}, {% endfor %}cast(null as timestamp) as loaded_at
    where false
    {%- else %}
    {{ ns.parts | join('\n    union all by name\n') }}
    {%- endif %}
{%- endmacro %}
