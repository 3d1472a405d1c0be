"""Running the platform safely: the Dagster home, dead-run recovery, child processes.

A run can end without saying so (SIGKILL, an OOM kill, a power cut, a CI timeout). Dagster
then shows it as started for ever and it keeps its `warehouse` pool slot, so every later run
waits behind a run that no longer exists. This package makes such runs visible and harmless:
every run records which process executes it (`worker`), and every entry point fails the runs
whose process is gone and frees their slots (`dead_runs`) before it starts work.
"""
