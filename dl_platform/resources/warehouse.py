"""The warehouse resource: every DuckDB connection the platform opens comes from here.

Why a resource of our own (built on dagster-duckdb's `DuckDBResource`):
- **One writer.** DuckDB allows one writing process per file, and a writer excludes
  readers in other processes. Writers take an exclusive `flock` on `<warehouse>.lock`
  for the life of the connection and readers a shared one, so two runs (or a run and a
  CLI command) queue instead of failing with a lock error.
- **Bounded memory and spill.** Every connection sets `memory_limit`, `threads`,
  `temp_directory` (under `DL_DATA_DIR`, never the working directory) and
  `max_temp_directory_size`; an unbounded Splink run otherwise fills the disk.
- **Engine choice.** `engine` names the backend; Spark would be a sibling class
  offering the same small API (connect, read/write tables, the Splink backend).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from dagster import get_dagster_logger
from dagster_duckdb import DuckDBResource
from pydantic import Field

from dl_platform.operations.worker import Worker, current, is_alive
from dl_platform.settings import ENGINES, get_settings

SPLINK_SCRATCH_PREFIX = "__splink__"


def connection_config(memory_limit: str, threads: int, temp_dir: Path, max_temp: str) -> dict[str, Any]:
    """DuckDB settings applied to every connection."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    return {
        "memory_limit": memory_limit,
        "threads": threads,
        "temp_directory": str(temp_dir),
        "max_temp_directory_size": max_temp,
        "preserve_insertion_order": False,
    }


def _lock_owner(handle: Any) -> Worker | None:
    """The writer named in the lock file (a writer clears it when it releases the lock)."""
    handle.seek(0)
    text = handle.read().strip()
    return Worker.parse(text.split()[0]) if text else None


def _take_over(handle: Any, lock_path: Path) -> None:
    """Name this process as the writer, saying so when the last writer died holding the lock."""
    previous = _lock_owner(handle)
    if previous is not None and previous != current():
        state = "is still running but released it uncleanly" if is_alive(previous) else "no longer exists"
        get_dagster_logger().warning(
            f"{lock_path.name}: the last writer ({previous.describe()}) {state}; taking the lock over. "
            "DuckDB replays the warehouse's write-ahead log on open: committed work is kept, "
            "uncommitted work is rolled back."
        )
    handle.seek(0)
    handle.truncate()
    handle.write(f"{current().tag()} {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n")
    handle.flush()


@contextmanager
def writer_lock(database: Path, timeout_s: float = 3600.0, shared: bool = False) -> Iterator[None]:
    """Hold the warehouse lock (exclusive for writers, shared for readers), waiting with log lines.

    The lock is an `flock`, so the kernel releases it when its holder dies however it dies;
    the file also names the writer (host, PID, start time), so a lock left by a killed run is
    reported when the next writer takes it over, and a waiting writer says whom it waits for.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = database.with_suffix(database.suffix + ".lock")
    with open(lock_path, "a+") as handle:
        start = time.monotonic()
        logged = 0.0
        while True:
            try:
                fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                owner = _lock_owner(handle)
                holder = owner.describe() if owner else "a reader"
                if waited > timeout_s:
                    raise TimeoutError(
                        f"{database}: {holder} has held the warehouse lock for {waited:.0f}s; is a run stuck?"
                    ) from None
                if waited - logged >= 10:
                    get_dagster_logger().info(f"waiting for the warehouse lock held by {holder} ({waited:.0f}s)")
                    logged = waited
                time.sleep(0.2)
        if not shared:
            _take_over(handle, lock_path)
        try:
            yield
        finally:
            if not shared:
                handle.seek(0)
                handle.truncate()
                handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


class WarehouseResource(DuckDBResource):
    """The warehouse (`$DL_DATA_DIR/warehouse.duckdb` by default) with the platform's guarantees."""

    engine: str = Field(default="duckdb", description="Storage/compute engine; only 'duckdb' today.")
    memory_limit: str = Field(default="6GB", description="DuckDB memory_limit for every connection.")
    threads: int = Field(default=2, description="DuckDB threads.")
    temp_directory: str = Field(default="", description="Spill directory; default $DL_DATA_DIR/tmp.")
    max_temp_directory_size: str = Field(default="40GB", description="Cap on spilled bytes.")

    @classmethod
    def from_settings(cls, database: Path | str | None = None) -> WarehouseResource:
        s = get_settings()
        return cls(
            database=str(database or s.warehouse_path),
            engine=s.engine,
            memory_limit=s.duckdb_memory_limit,
            threads=s.duckdb_threads,
            temp_directory=str(s.tmp_dir),
            max_temp_directory_size=s.duckdb_max_temp_size,
        )

    @property
    def path(self) -> Path:
        return Path(self.database)

    def _config(self) -> dict[str, Any]:
        temp = Path(self.temp_directory) if self.temp_directory else get_settings().tmp_dir
        return connection_config(self.memory_limit, self.threads, temp, self.max_temp_directory_size)

    @contextmanager
    def get_connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A configured connection; writers hold the single-writer lock meanwhile."""
        if self.engine not in ENGINES:
            raise ValueError(f"warehouse engine '{self.engine}' is not available (have: {ENGINES})")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with writer_lock(self.path, shared=read_only):
            conn = duckdb.connect(str(self.path), read_only=read_only, config=self._config())
            try:
                yield conn
            finally:
                conn.close()

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the writer lock without a connection (e.g. while dbt's own process writes)."""
        with writer_lock(self.path):
            yield

    def read_table(self, table: str) -> pd.DataFrame:
        with self.get_connection() as conn:
            return conn.execute(f"select * from {table}").df()

    def table_exists(self, conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
        rows = conn.execute(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        return bool(rows)

    @contextmanager
    def splink_api(self, conn: duckdb.DuckDBPyConnection) -> Iterator[Any]:
        """Splink's DuckDB backend on an open connection (Spark would yield SparkAPI).

        Splink materialises its intermediate tables (`__splink__*`: identifiers, blocked pairs,
        comparison vectors) in the connection's default schema, i.e. in the warehouse file.
        They are dropped when the block ends, and any left by a killed run when it starts.
        """
        from splink.backends.duckdb import DuckDBAPI

        drop_splink_scratch(conn)
        try:
            yield DuckDBAPI(connection=conn)
        finally:
            try:
                drop_splink_scratch(conn)
            except duckdb.Error as exc:  # e.g. an aborted transaction: the next run drops them
                get_dagster_logger().warning(f"Splink scratch tables not dropped now: {type(exc).__name__}")


def drop_splink_scratch(conn: duckdb.DuckDBPyConnection) -> int:
    """Drop Splink's scratch tables and views from the warehouse; returns how many."""
    rows = conn.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database() and starts_with(table_name, ?)",
        [SPLINK_SCRATCH_PREFIX],
    ).fetchall()
    for schema, name, kind in rows:
        conn.execute(f'drop {"view" if kind == "VIEW" else "table"} if exists "{schema}"."{name}"')
    return len(rows)


@contextmanager
def open_warehouse(
    database: Path | str | None = None, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A configured DuckDB connection outside Dagster (CLI, tests, benchmarks)."""
    with WarehouseResource.from_settings(database).get_connection(read_only=read_only) as conn:
        yield conn
