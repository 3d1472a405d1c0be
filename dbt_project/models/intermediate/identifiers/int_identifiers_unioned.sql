{{ config(materialized='view') }}

-- one row per record of every registered source, identifiers exactly as delivered
{{ union_registry_identifiers(['record_id', 'nhs_number', 'given_name', 'family_name', 'date_of_birth', 'sex', 'postcode', 'address']) }}
