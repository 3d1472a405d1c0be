"""Fixtures shared by integration modules: one uninterrupted demo, run once per session.

The demo is the reference the crash tests compare against, so its state is read the moment
it finishes, before any test changes its data folder (landing a later delivery, releasing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_ARGS = ("demo", "--persons", "500", "--seed", "3")


def cli_env(data: Path) -> dict[str, str]:
    """Environment of a user running the CLI on `data` (no key set: the demo makes one)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DL_PSEUDONYMISATION_KEY", "DAGSTER_HOME")}
    env["DL_DATA_DIR"] = str(data)
    return env


@dataclass
class Demo:
    data: Path
    cli: Callable[..., subprocess.CompletedProcess]
    run: subprocess.CompletedProcess
    state: object  # warehouse_state.WarehouseState right after the demo


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    from tests.integration.warehouse_state import warehouse_state

    data = tmp_path_factory.mktemp("demo") / "data"
    env = cli_env(data)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "dl-platform"), *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=900)

    run = cli(*DEMO_ARGS)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return Demo(data, cli, run, warehouse_state(data))
