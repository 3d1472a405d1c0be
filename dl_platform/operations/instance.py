"""The Dagster home under `$DL_DATA_DIR`: created once, safely, and recovered before use.

Two commands started together on a new data folder used to race creating the instance's
SQLite schema (`table secondary_indexes already exists`); creation now happens under an
exclusive file lock, and the instance settings are replaced atomically, never rewritten in
place while another process may be reading them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dl_platform.operations.dead_runs import Recovery, recover_dead_runs
from dl_platform.operations.files import exclusive, write_atomically
from dl_platform.settings import PACKAGE_DIR, get_settings

INSTANCE_CONFIG = PACKAGE_DIR / "config" / "dagster.yaml"


def dagster_home() -> Path:
    """`$DL_DATA_DIR/dagster_home` with the platform's instance settings and storage in place."""
    from dagster import DagsterInstance

    home = get_settings().data_dir / "dagster_home"
    with exclusive(home / ".create.lock"):
        config = INSTANCE_CONFIG.read_text()
        target = home / "dagster.yaml"
        if not target.exists() or target.read_text() != config:
            write_atomically(target, config)
        with DagsterInstance.from_config(str(home)) as instance:
            instance.get_runs(limit=1)  # creates the SQLite schema on a new home
    return home


def recover_instance(home: Path) -> Recovery:
    """Fail runs killed earlier and free their pool slots, saying so on stderr."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        recovery = recover_dead_runs(instance, log=lambda line: print(f"dl-platform: {line}", file=sys.stderr))
    if recovery:
        print(f"dl-platform: {recovery.describe()}", file=sys.stderr)
    return recovery
