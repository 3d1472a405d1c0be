-- the linkage input: every registered source's identifiers in one standard, comparable form

with delivered as (
    select * from {{ ref('int_identifiers_unioned') }}
),

nicknames as (
    -- a nickname shared by several formal names (ALEX) resolves to one, deterministically
    select {{ standardise_name('nickname') }} as nickname, min({{ standardise_name('formal_name') }}) as formal_name
    from {{ ref('ref_nicknames') }}
    group by 1
),

cleaned as (
    select
        source,
        record_id,
        is_master,
        source_primacy,
        link_enabled,
        loaded_at,
        {{ clean_nhs_number('nhs_number') }} as nhs_number,
        {{ standardise_name('given_name') }} as given_name,
        {{ standardise_name('family_name') }} as family_name,
        date_of_birth as date_of_birth_as_delivered,
        {{ standardise_sex('sex') }} as sex,
        {{ normalise_postcode('postcode') }} as postcode_as_delivered_normalised,
        {{ standardise_address('address') }} as address
    from delivered
),

standardised as (
    select
        cleaned.*,
        {{ is_valid_nhs_number('nhs_number') }} as nhs_number_valid,
        {{ is_valid_postcode('postcode_as_delivered_normalised') }} as postcode_valid,
        {{ is_pseudo_postcode('postcode_as_delivered_normalised') }} as postcode_is_pseudo,
        {{ describe_date_issue('date_of_birth_as_delivered', "date '1880-01-01'", 'current_date') }} as date_of_birth_issue
    from cleaned
)

select
    standardised.source,
    standardised.record_id,
    standardised.is_master,
    standardised.source_primacy,
    standardised.link_enabled,
    standardised.loaded_at,
    standardised.nhs_number,
    standardised.nhs_number_valid,
    standardised.given_name,
    coalesce(nicknames.formal_name, standardised.given_name) as given_name_formal,
    {{ encode_soundex('standardised.given_name') }} as given_name_phonetic,
    standardised.family_name,
    {{ encode_soundex('standardised.family_name') }} as family_name_phonetic,
    {{ split_name_parts('standardised.family_name') }} as family_name_parts,
    case when standardised.date_of_birth_issue is null
         then {{ parse_date('standardised.date_of_birth_as_delivered') }} end as date_of_birth,
    standardised.date_of_birth_issue,
    {{ extract_year_month('standardised.date_of_birth_as_delivered') }} as date_of_birth_year_month,
    standardised.sex,
    case when standardised.postcode_valid and not standardised.postcode_is_pseudo
         then standardised.postcode_as_delivered_normalised end as postcode,
    standardised.postcode_as_delivered_normalised,
    standardised.postcode_is_pseudo,
    standardised.postcode_valid,
    case when standardised.postcode_valid and not standardised.postcode_is_pseudo
         then {{ extract_postcode_outward('standardised.postcode_as_delivered_normalised') }} end as postcode_outward,
    case when standardised.postcode_valid and not standardised.postcode_is_pseudo
         then {{ extract_postcode_sector('standardised.postcode_as_delivered_normalised') }} end as postcode_sector,
    standardised.address
from standardised
left join nicknames
    on standardised.given_name = nicknames.nickname
