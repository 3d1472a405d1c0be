{#- Persons who attended A&E at least var('frequent_ae_min_attendances') times (default 4) in
    any one financial year. Returns a query of (person_id, frequent_ae_attender). -#}
{% macro flag_frequent_ae_attender(attendances) -%}
    select person_id, true as frequent_ae_attender
    from (
        select person_id, financial_year, count(*) as attendances
        from {{ attendances }}
        where financial_year is not null
        group by 1, 2
    ) as per_year
    where attendances >= {{ var('frequent_ae_min_attendances') | int }}
    group by 1
{%- endmacro %}
