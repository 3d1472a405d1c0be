"""Fail the runs whose worker process is gone, and free the pool slots they hold.

Called by every entry point before it starts work (the platform's executor at the start of
each run, `dl-platform materialize | demo | dev | recover`) and by Dagster's run-monitoring
daemon through `run_launcher.MonitoredRunLauncher`. A run's worker is the `dl_platform/worker`
tag the executor writes when the run starts, or failing that the process that logged the
run's start event (same host assumed: the local deployment runs everything on one host).
A run on another host is never judged from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from dl_platform.operations.worker import Worker, hostname, is_alive

WORKER_TAG = "dl_platform/worker"
IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
FAILURE_REASON = (
    "Marked failed by dl-platform: the process executing this run ({worker}) no longer exists, "
    "so the run was killed (SIGKILL, out of memory, power loss, timeout) before it could record "
    "its end. Work it had not committed was rolled back (each warehouse write is one DuckDB "
    "transaction); its pool slots are freed. Rerun, or re-execute from failure."
)


@dataclass
class Recovery:
    """What one pass did: runs marked failed and runs whose slots were freed (ids only)."""

    failed: list[str] = field(default_factory=list)
    freed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.failed or self.freed)

    def describe(self) -> str:
        return (f"recovered after a crash: {len(self.failed)} dead run(s) marked failed "
                f"({', '.join(r[:8] for r in self.failed) or '-'}), pool slots freed for "
                f"{len(self.freed)} ended run(s) ({', '.join(r[:8] for r in self.freed) or '-'})")


def run_worker(instance: DagsterInstance, run: DagsterRun) -> tuple[Worker | None, float | None]:
    """The run's worker and, when it came from the event log, when the run started.

    Returns:
        (worker, started_at): `started_at` (epoch seconds) lets a reused PID be told apart
        from the worker when the worker's own start time is unknown.
    """
    tagged = Worker.parse(run.tags.get(WORKER_TAG, ""))
    if tagged is not None:
        return tagged, None
    records = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.RUN_START, limit=1
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid:
            return Worker(hostname(), int(event.pid)), record.event_log_entry.timestamp
    return None, None


def worker_is_dead(instance: DagsterInstance, run: DagsterRun) -> tuple[bool, Worker | None]:
    """Whether the run's worker is known to be gone (False when alive or unknown)."""
    worker, started_at = run_worker(instance, run)
    if worker is None:
        return False, None
    return is_alive(worker, not_started_after=started_at) is False, worker


def _ended_runs_holding_slots(instance: DagsterInstance) -> list[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    run_ids = storage.get_concurrency_run_ids()
    if not run_ids:
        return []
    active = {
        r.run_id for r in instance.get_runs(RunsFilter(run_ids=list(run_ids), statuses=IN_PROGRESS))
    }
    return sorted(set(run_ids) - active)


def recover_dead_runs(
    instance: DagsterInstance,
    exclude: Iterable[str] = (),
    log: Callable[[str], None] | None = None,
) -> Recovery:
    """Mark failed every in-progress run whose worker is gone, then free the slots of every
    ended run that still holds some.

    Args:
        instance: the Dagster instance.
        exclude: run ids never to touch (the caller's own run).
        log: called with one line per run acted on.

    Returns:
        The runs marked failed and the runs whose slots were freed.
    """
    skip = set(exclude)
    out = Recovery()
    for run in instance.get_runs(RunsFilter(statuses=IN_PROGRESS)):
        if run.run_id in skip:
            continue
        dead, worker = worker_is_dead(instance, run)
        if not dead or worker is None:
            continue
        instance.report_run_failed(run, FAILURE_REASON.format(worker=worker.describe()))
        out.failed.append(run.run_id)
        if log:
            log(f"run {run.run_id} ({run.job_name}): worker {worker.describe()} is gone; marked failed")
    for run_id in _ended_runs_holding_slots(instance):
        if run_id in skip:
            continue
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        out.freed.append(run_id)
        if log:
            log(f"run {run_id} has ended but held warehouse pool slots; freed them")
    return out
