"""Run a child command that never outlives its parent.

`dl-platform materialize` runs Dagster's CLI as a child. Stopped with Ctrl-C or SIGTERM, it
used to exit and leave that child running (and the child's dbt writing the warehouse). Here
the parent forwards SIGINT/SIGTERM/SIGHUP to the child as SIGINT — the signal Dagster turns
into an orderly interruption that stops dbt and records the run as failed — and on Linux the
kernel sends SIGINT too if the parent dies without a chance to forward anything (SIGKILL).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
# After forwarding an interruption, how long the child may take to stop before it is killed.
STOP_GRACE_S = 60.0


def _interrupt_when_parent_dies(parent: int) -> None:
    """In the child, before exec: ask the kernel for SIGINT when the parent dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: forwarding below still covers Ctrl-C/SIGTERM
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGINT)


def run_child(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> int:
    """Run `cmd` to completion; interruptions of this process reach it; returns its exit code."""
    parent = os.getpid()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, preexec_fn=lambda: _interrupt_when_parent_dies(parent))
    forwarded = {"n": 0}

    def forward(signum: int, _frame: object) -> None:
        forwarded["n"] += 1
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if forwarded["n"] == 1 else signal.SIGKILL)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                return proc.wait(timeout=STOP_GRACE_S if forwarded["n"] else None)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if forwarded["n"] and proc.returncode is None:
            proc.kill()
