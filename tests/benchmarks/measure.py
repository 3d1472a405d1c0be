"""Run a benchmark step in a fresh process; report seconds and the peak RSS of it or its children."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

_WRAPPER = textwrap.dedent(
    """
    import json, resource, sys, time
    start = time.perf_counter()
    exec(compile(sys.argv[1], "<bench>", "exec"), {"__name__": "__bench__"})
    print("BENCH_RESULT " + json.dumps({
        "seconds": time.perf_counter() - start,
        "peak_rss_gib": max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,  # e.g. the dagster CLI it ran
        ) / 1024 / 1024,
    }))
    """
)


def measure(code: str, env: dict[str, str] | None = None, timeout: int = 3600) -> dict:
    """Execute `code` in a new interpreter; returns {"seconds", "peak_rss_gib", "stdout"}."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, textwrap.dedent(code)],
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step failed:\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH_RESULT "))
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["stdout"] = proc.stdout
    return result


def report(title: str, rows: list[dict]) -> None:
    """Print a fixed-width table of benchmark rows (visible with `pytest -s`)."""
    if not rows:
        return
    cols = list(rows[0])
    print(f"\n== {title} ==")
    print("  ".join(f"{c:>16}" for c in cols))
    for r in rows:
        print("  ".join(f"{(f'{v:.2f}' if isinstance(v, float) else str(v)):>16}" for v in r.values()))
