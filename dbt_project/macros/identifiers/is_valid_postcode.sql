{#- Is a normalised postcode (normalise_postcode) a valid BS7666 shape? Outward: first letter
    not Q/V/X, optional second letter not I/J/Z, a digit, optional digit or letter; inward: a
    digit and two letters not in CIKMOV. GIR 0AA and the ZZ99 pseudo-postcodes are valid input
    (see is_pseudo_postcode). NULL -> false. -#}
{% macro is_valid_postcode(column) -%}
    {{ return(adapter.dispatch('is_valid_postcode', 'dl_platform')(column)) }}
{%- endmacro %}

{% macro default__is_valid_postcode(column) -%}
    coalesce(regexp_like({{ column }},
        '^([A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]? [0-9][ABD-HJLNP-UW-Z]{2}|GIR 0AA|ZZ99 [0-9][A-Z]{2})$'), false)
{%- endmacro %}

{% macro duckdb__is_valid_postcode(column) -%}
    coalesce(regexp_full_match({{ column }},
        '([A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]? [0-9][ABD-HJLNP-UW-Z]{2}|GIR 0AA|ZZ99 [0-9][A-Z]{2})'), false)
{%- endmacro %}
