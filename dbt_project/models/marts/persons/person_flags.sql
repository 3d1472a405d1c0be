-- depends_on: {{ ref('ref_ltc_codes') }}
-- one row per MPI person: every central flag, derived once here and never inside an extract.
-- Long-term condition columns (ltc_<condition>, ltc_<condition>_first_date) come from the
-- ref_ltc_codes seed; rule flags are one macro each in macros/flags/.

with persons as (
    select person_id, is_deceased from {{ ref('dim_person') }}
),

conditions as (
    select * from {{ ref('int_conditions_derived') }}
),

frequent_ae as ({{ flag_frequent_ae_attender(ref('fct_ae_attendances')) }}),

deregistered as ({{ flag_deregistered(ref('fct_gp_registrations')) }}),

deceased as ({{ flag_deceased('persons') }}),

national_opt_out as ({{ flag_opted_out(ref('int_optouts_resolved_to_persons'), 'national_opt_out') }}),

type1_opt_out as ({{ flag_opted_out(ref('int_optouts_resolved_to_persons'), 'type1_opt_out') }})

select
    persons.person_id,
    {%- for condition in list_ltc_conditions() %}
    coalesce(bool_or(conditions.condition = '{{ condition }}'), false) as ltc_{{ condition }},
    min(case when conditions.condition = '{{ condition }}' then conditions.first_diagnosis_date end) as ltc_{{ condition }}_first_date,
    {%- endfor %}
    coalesce(any_value(frequent_ae.frequent_ae_attender), false) as frequent_ae_attender,
    coalesce(any_value(deregistered.deregistered), false) as deregistered,
    coalesce(any_value(deceased.deceased), false) as deceased,
    coalesce(any_value(national_opt_out.national_opt_out), false) as national_opt_out,
    coalesce(any_value(type1_opt_out.type1_opt_out), false) as type1_opt_out
from persons
left join conditions on conditions.person_id = persons.person_id
left join frequent_ae on frequent_ae.person_id = persons.person_id
left join deregistered on deregistered.person_id = persons.person_id
left join deceased on deceased.person_id = persons.person_id
left join national_opt_out on national_opt_out.person_id = persons.person_id
left join type1_opt_out on type1_opt_out.person_id = persons.person_id
group by persons.person_id
