-- the linkage input: every registered source's identifiers in one standard, comparable form
--
-- Each rule runs once per distinct delivered value, then joins back to the records: at 1M
-- persons 5M records carry a few thousand given names and dates of birth, and the rules are
-- regular expressions and Soundex. Nulls join too (is not distinct from), so a missing value
-- gets exactly what the rule says of NULL.

with delivered as (
    select * from {{ ref('int_identifiers_unioned') }}
),

nicknames as (
    -- a nickname shared by several formal names (ALEX) resolves to one, deterministically
    select {{ standardise_name('nickname') }} as nickname, min({{ standardise_name('formal_name') }}) as formal_name
    from {{ ref('ref_nicknames') }}
    group by 1
),

given_names as (
    select raw, std, coalesce(nicknames.formal_name, std) as formal, {{ encode_soundex('std') }} as phonetic
    from (
        select raw, {{ standardise_name('raw') }} as std
        from (select distinct given_name as raw from delivered)
    ) as names
    left join nicknames on names.std = nicknames.nickname
),

family_names as (
    select raw, std, {{ encode_soundex('std') }} as phonetic, {{ split_name_parts('std') }} as parts
    from (
        select raw, {{ standardise_name('raw') }} as std
        from (select distinct family_name as raw from delivered)
    )
),

nhs_numbers as (
    select raw, clean, {{ is_valid_nhs_number('clean') }} as valid
    from (select raw, {{ clean_nhs_number('raw') }} as clean from (select distinct nhs_number as raw from delivered))
),

dates_of_birth as (
    select
        raw,
        issue,
        case when issue is null then {{ parse_date('raw') }} end as parsed,
        {{ extract_year_month('raw') }} as year_month
    from (
        select raw, {{ describe_date_issue('raw', "date '1880-01-01'", 'current_date') }} as issue
        from (select distinct date_of_birth as raw from delivered)
    )
),

postcodes as (
    select
        raw,
        normalised,
        valid,
        pseudo,
        case when valid and not pseudo then normalised end as postcode,
        case when valid and not pseudo then {{ extract_postcode_outward('normalised') }} end as outward,
        case when valid and not pseudo then {{ extract_postcode_sector('normalised') }} end as sector
    from (
        select raw, normalised,
               {{ is_valid_postcode('normalised') }} as valid, {{ is_pseudo_postcode('normalised') }} as pseudo
        from (
            select raw, {{ normalise_postcode('raw') }} as normalised
            from (select distinct postcode as raw from delivered)
        )
    )
)

select
    delivered.source,
    delivered.record_id,
    delivered.is_master,
    delivered.source_primacy,
    delivered.link_enabled,
    delivered.loaded_at,
    nhs_numbers.clean as nhs_number,
    nhs_numbers.valid as nhs_number_valid,
    given_names.std as given_name,
    given_names.formal as given_name_formal,
    given_names.phonetic as given_name_phonetic,
    family_names.std as family_name,
    family_names.phonetic as family_name_phonetic,
    family_names.parts as family_name_parts,
    dates_of_birth.parsed as date_of_birth,
    dates_of_birth.issue as date_of_birth_issue,
    dates_of_birth.year_month as date_of_birth_year_month,
    {{ standardise_sex('delivered.sex') }} as sex,
    postcodes.postcode,
    postcodes.normalised as postcode_as_delivered_normalised,
    postcodes.pseudo as postcode_is_pseudo,
    postcodes.valid as postcode_valid,
    postcodes.outward as postcode_outward,
    postcodes.sector as postcode_sector,
    {{ standardise_address('delivered.address') }} as address
from delivered
left join nhs_numbers on delivered.nhs_number is not distinct from nhs_numbers.raw
left join given_names on delivered.given_name is not distinct from given_names.raw
left join family_names on delivered.family_name is not distinct from family_names.raw
left join dates_of_birth on delivered.date_of_birth is not distinct from dates_of_birth.raw
left join postcodes on delivered.postcode is not distinct from postcodes.raw
