"""Which process executes a run, and whether that process still exists.

A PID alone is not an identity: after a crash the number may be reused by an unrelated
process. A worker is therefore (host, pid, process start time); it is alive only if a process
with that PID exists on this host, is not a zombie, and started when the worker did.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

# /proc start times are in clock ticks; two reads of one process agree to a tick.
_START_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class Worker:
    """A process on a host; `started` is its start time (epoch seconds) when known."""

    host: str
    pid: int
    started: float | None = None

    def tag(self) -> str:
        """Compact text form, stored as a run tag and in the warehouse lock file."""
        started = "" if self.started is None else f"{self.started:.2f}"
        return f"{self.host}|{self.pid}|{started}"

    @classmethod
    def parse(cls, text: str) -> Worker | None:
        """The worker written by `tag()`, or None if `text` is not one."""
        parts = text.strip().split("|")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        try:
            started = float(parts[2]) if parts[2] else None
        except ValueError:
            return None
        return cls(parts[0], int(parts[1]), started)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def hostname() -> str:
    return socket.gethostname()


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), where the OS tells (Linux /proc)."""
    fields, boot = _proc_stat(pid), _boot_time()
    if fields is None or boot is None:
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def current() -> Worker:
    """This process."""
    return Worker(hostname(), os.getpid(), process_start_time(os.getpid()))


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    fields = _proc_stat(pid)
    return not (fields and fields[0] == "Z")  # a zombie has finished: only its exit status is left


def is_alive(worker: Worker, not_started_after: float | None = None) -> bool | None:
    """Whether `worker` still runs: True, False, or None when it cannot be told (another host).

    Args:
        worker: the process to look for.
        not_started_after: when the start time is unknown, a process with this PID that
            started after this moment (epoch seconds) is a different process.
    """
    if worker.host != hostname():
        return None
    if not _pid_exists(worker.pid):
        return False
    started = process_start_time(worker.pid)
    if started is None:
        return True  # no /proc: the PID exists, which is all this OS tells
    if worker.started is not None:
        return abs(started - worker.started) <= _START_TOLERANCE_S
    if not_started_after is not None:
        return started <= not_started_after + _START_TOLERANCE_S
    return True
