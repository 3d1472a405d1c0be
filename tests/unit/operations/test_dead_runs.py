"""Dead runs are told from live ones by their worker, on a real Dagster instance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from dl_platform.operations.dead_runs import WORKER_TAG, recover_dead_runs
from dl_platform.operations.run_launcher import MonitoredRunLauncher
from dl_platform.operations.worker import Worker, current, hostname, process_start_time
from dl_platform.settings import PACKAGE_DIR


def _dead_worker() -> Worker:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start_time(child.pid)
    child.wait()
    return Worker(hostname(), child.pid, started)


def _instance(tmp_path: Path) -> dg.DagsterInstance:
    (tmp_path / "dagster.yaml").write_text((PACKAGE_DIR / "config" / "dagster.yaml").read_text())
    return dg.DagsterInstance.from_config(str(tmp_path))


def _started_run(instance: dg.DagsterInstance, worker: Worker) -> dg.DagsterRun:
    run = instance.create_run_for_job(
        dg.GraphDefinition(name="g", node_defs=[]).to_job(name="crashed"), tags={WORKER_TAG: worker.tag()}
    )
    instance.handle_run_event(run.run_id, dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name))
    return instance.get_run_by_id(run.run_id)


def test_the_monitoring_daemon_is_told_which_run_lost_its_worker(tmp_path):
    with _instance(tmp_path) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, MonitoredRunLauncher) and launcher.supports_check_run_worker_health
        dead, alive = _started_run(instance, _dead_worker()), _started_run(instance, current())
        assert launcher.check_run_worker_health(dead).status.value == "FAILED"
        assert launcher.check_run_worker_health(alive).status.value == "RUNNING"
        assert instance.run_monitoring_enabled


def test_recovery_fails_only_dead_runs_and_frees_their_slots(tmp_path):
    with _instance(tmp_path) as instance:
        dead, alive = _started_run(instance, _dead_worker()), _started_run(instance, current())
        storage = instance.event_log_storage
        storage.set_concurrency_slots("warehouse", 1)
        assert storage.claim_concurrency_slot("warehouse", dead.run_id, "raw__pds").is_claimed
        blocked = storage.claim_concurrency_slot("warehouse", alive.run_id, "raw__hes")
        assert not blocked.is_claimed  # the wedge: the dead run holds the only slot
        lines: list[str] = []
        recovery = recover_dead_runs(instance, log=lines.append)
        assert recovery.failed == [dead.run_id] and dead.run_id in recovery.freed
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        failure = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
        assert "no longer exists" in failure.dagster_event.message and lines
        assert storage.claim_concurrency_slot("warehouse", alive.run_id, "raw__hes").is_claimed
        # Nothing left to do the second time.
        assert not recover_dead_runs(instance)
