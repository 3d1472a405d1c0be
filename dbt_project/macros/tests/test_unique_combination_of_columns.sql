{#- Rows whose combination of `columns` is not unique (as dbt_utils' test of that name,
    without the package dependency: the project installs no dbt packages). -#}
{% test unique_combination_of_columns(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
