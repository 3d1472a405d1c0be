"""Dagster's default run launcher, plus the health check its run monitoring needs.

`DefaultRunLauncher` cannot tell whether a run's worker process still exists, so under
`dagster dev` a killed run stayed STARTED for ever and, with one run at a time, blocked the
queue. With this launcher (set in `config/dagster.yaml`, `run_monitoring` enabled) the
daemon asks `check_run_worker_health`, which looks the worker up as `dead_runs` does.
"""

from __future__ import annotations

from dagster import DagsterRun
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

from dl_platform.operations.dead_runs import FAILURE_REASON, worker_is_dead


class MonitoredRunLauncher(DefaultRunLauncher):
    """Launches like the default launcher; reports a run whose worker process is gone as FAILED."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        dead, worker = worker_is_dead(self._instance, run)
        if dead and worker is not None:
            return CheckRunHealthResult(WorkerStatus.FAILED, FAILURE_REASON.format(worker=worker.describe()))
        # Alive, or not known yet (no start event): never fail a run on a guess.
        return CheckRunHealthResult(WorkerStatus.RUNNING)
