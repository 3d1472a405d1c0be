"""A run killed at any step never wedges the platform, and rerunning gives what an
uninterrupted run gives.

The demo is started as a user starts it (`dl-platform demo`) and its whole process group is
SIGKILLed — as a power cut, an OOM kill or a CI timeout would — at one step after another:
while it writes its deliveries, during a raw load, inside both dbt builds, at the start of and
inside the linkage, and while the marts are published. Each next command is the same one,
with no manual step in between, and must get past the point where the last one died; once,
the UI's way is taken instead (the dead run is recovered, then re-executed from failure).
The last command runs to the end and its warehouse, MPI and marts must equal the reference
demo's (`conftest.demo`, same population).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg

from tests.integration.conftest import BIN, DEMO_ARGS, REPO, cli_env
from tests.integration.warehouse_state import warehouse_state

STEP_START = 'STEP_START - Started execution of step "{}"'
# (step whose start triggers the kill, seconds to wait after it): in the order.
KILL_POINTS = [
    ("raw__hes_apc", 0.0),
    ("dbt_linkage_input", 6.0),
    ("record_person", 0.0),
    ("record_person", 1.0),
    ("dbt_analytics", 8.0),
    ("marts__published", 0.0),
]
REEXECUTE_AFTER = "dbt_analytics"


class Command:
    """One `dl-platform demo` in its own process group, its output collected as it comes."""

    def __init__(self, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [str(BIN / "dl-platform"), *DEMO_ARGS], cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill_when(self, ready, timeout: float = 600) -> None:
        """SIGKILL the whole group as soon as `ready()`; fail if the command ends first."""
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, f"ended before the kill point:\n{self.output[-3000:]}"
            assert time.monotonic() < deadline, f"kill point never reached:\n{self.output[-3000:]}"
            time.sleep(0.002)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(timeout=10)

    def kill_at_step(self, step: str, delay: float) -> None:
        marker = STEP_START.format(step)
        seen: dict[str, float] = {}

        def ready() -> bool:
            if "t" not in seen and any(marker in line for line in list(self.lines)):
                seen["t"] = time.monotonic()
            return "t" in seen and time.monotonic() - seen["t"] >= delay

        self.kill_when(ready)

    def finish(self, timeout: float = 900) -> subprocess.CompletedProcess:
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, self.output, "")


def _instance_state(data: Path) -> tuple[dict[str, dg.DagsterRunStatus], list[str]]:
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        runs = {r.run_id: r.status for r in instance.get_runs()}
        claimed = [s.run_id for s in instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots]
    return runs, claimed


def _reexecute_from_failure(data: Path, env: dict[str, str], run_id: str) -> subprocess.CompletedProcess:
    """What the UI's "Re-execute from failure" does, through Dagster's Python API."""
    script = (
        "import dagster as dg, sys\n"
        "from dagster._core.definitions.reconstruct import ReconstructableRepository\n"
        "repo = ReconstructableRepository.for_module('dl_platform.definitions', 'defs')\n"
        "job = repo.get_reconstructable_job('__ASSET_JOB')\n"
        "with dg.DagsterInstance.get() as instance:\n"
        "    result = dg.execute_job(job, instance,\n"
        "        reexecution_options=dg.ReexecutionOptions.from_failure(sys.argv[1], instance))\n"
        "    sys.exit(0 if result.success else 1)\n"
    )
    # The UI's process has what `dl-platform dev` gives it: the Dagster home and the key.
    key = (data / ".secrets" / "pseudonymisation_key").read_text().strip()
    return subprocess.run([sys.executable, "-c", script, run_id], cwd=REPO, capture_output=True, text=True,
                          env={**env, "DAGSTER_HOME": str(data / "dagster_home"), "DL_PSEUDONYMISATION_KEY": key},
                          timeout=900)


def test_killed_runs_never_wedge_and_reruns_match_an_uninterrupted_run(tmp_path, demo):
    data = tmp_path / "data"
    env = cli_env(data)

    # Killed while writing its deliveries: the rerun notices the partial landing and rebuilds it.
    first = Command(env)
    marker = data / ".demo-generating"
    first.kill_when(lambda: marker.exists() and any((data / "landing").glob("*/*")))
    assert marker.exists(), "the kill should have landed while the landing was being written"

    killed: list[str] = []
    for k, (step, delay) in enumerate(KILL_POINTS):
        command = Command(env)
        command.kill_at_step(step, delay)
        if k == 0:
            assert "landing was left half-written" in command.output
        runs, claimed = _instance_state(data)
        dead = [r for r, status in runs.items() if status == dg.DagsterRunStatus.STARTED]
        assert len(dead) == 1, (step, runs)
        # The state that used to wedge every later run: a STARTED run whose process is gone,
        # holding the warehouse pool's only slot.
        assert claimed == dead, (step, claimed)
        killed += dead
        if step == REEXECUTE_AFTER:
            recover = subprocess.run([str(BIN / "dl-platform"), "recover"], cwd=REPO, env=env,
                                     capture_output=True, text=True, timeout=300)
            assert recover.returncode == 0 and dead[0][:8] in recover.stderr, recover.stderr
            again = _reexecute_from_failure(data, env, dead[0])
            assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]

    final = Command(env).finish()
    assert final.returncode == 0, final.stdout[-4000:]

    runs, claimed = _instance_state(data)
    assert claimed == []
    assert all(runs[r] == dg.DagsterRunStatus.FAILURE for r in killed), runs
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        failure = instance.all_logs(killed[0], of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
    assert "no longer exists" in failure.dagster_event.message

    state, reference = warehouse_state(data), demo.state
    assert state.row_counts == reference.row_counts
    assert state.persons == reference.persons and state.steps == reference.steps
    assert state.marts == reference.marts
    assert not list(data.glob("marts.duckdb.tmp-*"))
