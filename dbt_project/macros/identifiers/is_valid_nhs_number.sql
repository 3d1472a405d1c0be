{#- Modulus 11 validity of a cleaned NHS number (see clean_nhs_number).
    Digits 1-9 weighted 10..2, summed; check = 11 - (sum mod 11), 11 -> 0, 10 -> never issued
    (invalid); the check must equal digit 10. All-same-digit numbers pass the arithmetic but are
    not real numbers (HES treats them as missing), so they are rejected. NULL -> false. -#}
{% macro is_valid_nhs_number(column) -%}
    {{ return(adapter.dispatch('is_valid_nhs_number', 'dl_platform')(column)) }}
{%- endmacro %}

{% macro default__is_valid_nhs_number(column) -%}
    coalesce(
        {{ column }} is not null
        and length({{ column }}) = 10
        and {{ column }} <> repeat(substr({{ column }}, 1, 1), 10)
        and (11 - ((
            {%- for i in range(1, 10) %}
            coalesce(try_cast(substr({{ column }}, {{ i }}, 1) as integer), 99) * {{ 11 - i }}{{ " +" if not loop.last }}
            {%- endfor %}
        ) % 11)) % 11 = try_cast(substr({{ column }}, 10, 1) as integer),
        false)
{%- endmacro %}
