"""dbt wiring: standardisation, central flags and analyst marts as Dagster assets."""
