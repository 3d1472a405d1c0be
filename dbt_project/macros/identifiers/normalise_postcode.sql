{#- BS7666 form: upper case, every non-alphanumeric removed, one space before the last three
    characters ('ec1a1bb' -> 'EC1A 1BB'). Empty -> NULL. Validity is a separate question
    (is_valid_postcode): this is the delivered value made comparable. -#}
{% macro normalise_postcode(column) -%}
    {{ return(adapter.dispatch('normalise_postcode', 'dl_platform')(column)) }}
{%- endmacro %}

{% macro default__normalise_postcode(column) -%}
    case
        when length(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g')) = 0 then null
        when length(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g')) <= 3
            then regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g')
        else substr(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g'), 1,
                    length(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g')) - 3)
             || ' ' || right(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g'), 3)
    end
{%- endmacro %}
