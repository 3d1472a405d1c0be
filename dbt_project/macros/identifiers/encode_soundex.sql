{#- American Soundex of a standardised name (letters only; spaces ignored, so 'SMITH JONES'
    is coded as one word). DuckDB has no Double Metaphone; Soundex is the classic census
    blocking key and tolerant of common spelling variants (SMITH/SMYTH -> S530).
    Rules: keep the first letter; B F P V=1, C G J K Q S X Z=2, D T=3, L=4, M N=5, R=6;
    vowels and Y separate equal codes, H and W do not; adjacent equal codes collapse
    (including with the first letter); pad with 0 to four characters. NULL -> NULL. -#}
{% macro encode_soundex(column) -%}
    {%- set letters = "regexp_replace(upper(" ~ column ~ "), '[^A-Z]', '', 'g')" -%}
    {#- H/W vanish (translate drops characters it has no replacement for); a leading H/W becomes '7' so the
        first character of the code string always belongs to the first letter. -#}
    {%- set coded -%}
        (case when substr({{ letters }}, 1, 1) in ('H', 'W') then '7' else '' end
         || translate({{ letters }}, 'AEIOUYBFPVCGJKQSXZDTLMNRHW', '000000111122222222334556'))
    {%- endset -%}
    {%- set ns = namespace(collapsed=coded) -%}
    {%- for d in ['0', '1', '2', '3', '4', '5', '6'] -%}
        {%- set ns.collapsed = "regexp_replace(" ~ ns.collapsed ~ ", '" ~ d ~ "+', '" ~ d ~ "', 'g')" -%}
    {%- endfor -%}
    case when length({{ letters }}) > 0 then
        substr({{ letters }}, 1, 1)
        || left(rpad(replace(substr({{ ns.collapsed }}, 2), '0', ''), 3, '0'), 3)
    end
{%- endmacro %}
