-- one row per MPI person: the golden record's date of birth, sex and postcode, in the linkage zone only

with golden as (
    {{ select_source_or_empty('mpi', 'golden_record', ['person_id', 'date_of_birth', 'sex', 'postcode']) }}
)

select
    person_id,
    try_cast(date_of_birth as date) as date_of_birth,
    {{ standardise_sex('sex') }} as sex,
    {{ normalise_postcode('postcode') }} as postcode
from golden
where person_id is not null
