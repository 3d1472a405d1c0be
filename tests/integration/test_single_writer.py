"""Two processes never write the warehouse at once: the second waits for the writer lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap

WRITER = textwrap.dedent(
    """
    import sys, time
    from dl_platform.resources import open_warehouse
    name = sys.argv[1]
    with open_warehouse() as conn:
        start = time.time()
        conn.execute("create table if not exists w (who varchar, t double)")
        conn.execute("insert into w values (?, ?)", [name, start])
        time.sleep(1.5)
        conn.execute("insert into w values (?, ?)", [name, time.time()])
    print(f"{name} {start} {time.time()}")
    """
)


def test_concurrent_writers_are_serialised(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path / "data"))
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outputs]
    spans = sorted((float(s), float(e)) for _, s, e in (o[0].split() for o in outputs))
    # The second writer started only after the first finished: no overlap.
    assert spans[1][0] >= spans[0][1] - 0.05
    from dl_platform.resources import open_warehouse

    with open_warehouse(read_only=True) as conn:
        rows = conn.execute("select who from w order by t").fetchall()
    assert [r[0] for r in rows] in (["a", "a", "b", "b"], ["b", "b", "a", "a"])
