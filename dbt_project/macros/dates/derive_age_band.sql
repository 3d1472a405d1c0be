{#- Age band at a reference date: 0-17, 18-24, then ten-year bands to 75-84, then 85+.
    Coarse enough for marts; the full date of birth never leaves the linkage zone. -#}
{% macro derive_age_band(date_of_birth, reference_date) -%}
    case
        when {{ date_of_birth }} is null then null
        when date_diff('year', {{ date_of_birth }}, {{ reference_date }})
             - case when strftime({{ reference_date }}, '%m%d') < strftime({{ date_of_birth }}, '%m%d') then 1 else 0 end < 18 then '0-17'
        when date_diff('year', {{ date_of_birth }}, {{ reference_date }})
             - case when strftime({{ reference_date }}, '%m%d') < strftime({{ date_of_birth }}, '%m%d') then 1 else 0 end < 25 then '18-24'
        when date_diff('year', {{ date_of_birth }}, {{ reference_date }})
             - case when strftime({{ reference_date }}, '%m%d') < strftime({{ date_of_birth }}, '%m%d') then 1 else 0 end >= 85 then '85+'
        else cast(floor((date_diff('year', {{ date_of_birth }}, {{ reference_date }})
             - case when strftime({{ reference_date }}, '%m%d') < strftime({{ date_of_birth }}, '%m%d') then 1 else 0 end - 5) / 10) * 10 + 5 as integer)
             || '-' || cast(floor((date_diff('year', {{ date_of_birth }}, {{ reference_date }})
             - case when strftime({{ reference_date }}, '%m%d') < strftime({{ date_of_birth }}, '%m%d') then 1 else 0 end - 5) / 10) * 10 + 14 as integer)
    end
{%- endmacro %}
