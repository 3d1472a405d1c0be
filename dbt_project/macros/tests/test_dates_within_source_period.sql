{#- Rows whose date lies outside the coverage period the registry promises for `source`
    (vars dl_sources[].period). A source without a period, or not registered, passes. -#}
{% test dates_within_source_period(model, column_name, source) %}
    {%- set ns = namespace(period=none) -%}
    {%- for s in var('dl_sources', []) -%}
        {%- if s.name == source and s.get('period') -%}{%- set ns.period = s.period -%}{%- endif -%}
    {%- endfor -%}
    select {{ column_name }}
    from {{ model }}
    {%- if ns.period is not none %}
    where {{ column_name }} < cast('{{ ns.period.start }}' as date)
       or {{ column_name }} > cast('{{ ns.period.end }}' as date)
    {%- else %}
    where false
    {%- endif %}
{% endtest %}
