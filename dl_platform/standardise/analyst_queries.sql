-- Example analyst queries on the published marts ($DL_DATA_DIR/marts.duckdb).
-- Open it read-only: duckdb -readonly data/marts.duckdb  (or duckdb.connect(path, read_only=True)).
-- Each query starts with a `-- name:` line; tests run every one of them.

-- name: diabetes_prevalence_by_imd_decile
-- Diabetes prevalence (%) by deprivation decile (1 = most deprived), living persons.
select
    p.imd_decile,
    count(*) as persons,
    count(*) filter (where f.ltc_diabetes) as with_diabetes,
    round(100.0 * count(*) filter (where f.ltc_diabetes) / count(*), 1) as prevalence_pct
from dim_person as p
join person_flags as f using (person_id)
where not p.is_deceased
group by p.imd_decile
order by p.imd_decile nulls last;

-- name: emergency_admissions_by_financial_year_and_age_band
-- Emergency hospital episodes (first episode of each admission) per financial year and age band.
select
    e.financial_year,
    p.age_band,
    count(*) as emergency_episodes,
    count(distinct e.person_id) as persons
from fct_hospital_episodes as e
join dim_person as p using (person_id)
where e.admission_type = 'emergency' and e.episode_order = 1
group by e.financial_year, p.age_band
order by e.financial_year, p.age_band;

-- name: frequent_ae_attenders_by_region_and_ethnic_group
-- Share of persons who are frequent A&E attenders, by region and ethnic group.
select
    p.region,
    p.ethnic_group,
    count(*) as persons,
    count(*) filter (where f.frequent_ae_attender) as frequent_attenders,
    round(100.0 * count(*) filter (where f.frequent_ae_attender) / count(*), 1) as frequent_pct
from dim_person as p
join person_flags as f using (person_id)
group by p.region, p.ethnic_group
order by p.region nulls last, p.ethnic_group;
