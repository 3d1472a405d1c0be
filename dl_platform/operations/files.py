"""Files that a crash cannot leave half-written or locked for ever.

A run can be killed between any two bytes it writes. Whatever others read (instance settings,
the saved linkage model, reports) is written beside its final name and renamed over it, so a
reader sees the old file or the new one. Locks are `flock`s, which the kernel releases when
their holder dies however it dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if absent); released however we exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(path: Path, data: bytes | str) -> None:
    """Write `path` so that readers see the old file or the new one, never a part of either."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)
