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


CRASHING_WRITER = textwrap.dedent(
    """
    import os, signal
    from dl_platform.resources import open_warehouse
    with open_warehouse() as conn:
        conn.execute("create table kept as select range as i from range(1000)")
        conn.execute("begin transaction")
        conn.execute("insert into kept select 5000")
        conn.execute("create table lost as select 1 as x")
        os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction, lock held, nothing checkpointed
    """
)


def test_a_writer_killed_holding_the_lock_is_taken_over_and_its_wal_replayed(tmp_path, monkeypatch, caplog):
    """The lock file names a dead writer; the next writer takes the lock over and says so, and
    DuckDB replays the write-ahead log: committed work is there, uncommitted work is not."""
    data = tmp_path / "data"
    monkeypatch.setenv("DL_DATA_DIR", str(data))
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WRITER], capture_output=True, text=True, timeout=60)
    assert crashed.returncode == -9, crashed.stderr
    lock = data / "warehouse.duckdb.lock"
    dead_pid = lock.read_text().split()[0].split("|")[1]
    assert (data / "warehouse.duckdb.wal").stat().st_size > 0
    from dl_platform.operations.worker import current
    from dl_platform.resources import open_warehouse

    with caplog.at_level("WARNING"), open_warehouse() as conn:
        assert lock.read_text().split()[0] == current().tag()
        kept = conn.execute("select count(*), max(i) from kept").fetchall()[0]
        lost = conn.execute("select count(*) from information_schema.tables where table_name = 'lost'").fetchall()
    assert kept == (1000, 999) and lost == [(0,)]
    assert any(f"pid {dead_pid}" in r.message and "taking the lock over" in r.message for r in caplog.records)
    assert lock.read_text() == ""  # released cleanly: the next writer has nothing to report
