-- one row per linked source record with the MPI person it was placed with

with record_person as (
    {{ select_source_or_empty('mpi', 'record_person', ['source', 'record_id', 'person_id', 'link_step', 'match_probability']) }}
)

select
    record_person.source,
    record_person.record_id,
    record_person.person_id,
    record_person.link_step,
    try_cast(record_person.match_probability as double) as match_probability
from record_person
where record_person.person_id is not null
