"""The demo and local-operations commands behind `make demo` and `make dev`.

The demo is what a new user runs first: it generates a pseudonymisation key if none is
set (and says so), generates the synthetic population, materialises every asset through
Dagster's own CLI (so the runs and check results are in the instance the UI reads) and
prints where to look.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from dl_platform.operations.children import run_child
from dl_platform.operations.instance import dagster_home, recover_instance
from dl_platform.settings import REPO_DIR, get_settings

KEY_FILE = "pseudonymisation_key"
GOVERNANCE_REPORT = "quality/governance_report"
# Present while the demo writes its deliveries: a demo killed then left a partial landing.
GENERATING_MARKER = ".demo-generating"


def ensure_key() -> str:
    """The pseudonymisation key: from the environment, else a generated demo key (with a warning)."""
    s = get_settings()
    if s.pseudonymisation_key:
        return s.pseudonymisation_key
    path = s.secrets_dir / KEY_FILE
    if not path.exists():
        s.secrets_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(s.secrets_dir, 0o700)
        path.write_text(secrets.token_hex(32))
        os.chmod(path, 0o600)
        print(
            f"WARNING: DL_PSEUDONYMISATION_KEY is not set; generated a LOCAL DEMO key in {path}.\n"
            "         Real deployments must supply the key from a secret store.",
            file=sys.stderr,
        )
    else:
        print(f"note: using the local demo key in {path} (DL_PSEUDONYMISATION_KEY is not set)", file=sys.stderr)
    return path.read_text().strip()


def platform_env() -> dict[str, str]:
    """Environment for child processes: data dir, key and Dagster home resolved once."""
    env = dict(os.environ)
    env["DL_DATA_DIR"] = str(get_settings().data_dir)
    env["DL_PSEUDONYMISATION_KEY"] = ensure_key()
    home = dagster_home()
    recover_instance(home)  # a run killed earlier must not hold the queue or the warehouse pool
    env["DAGSTER_HOME"] = str(home)
    return env


def demo_selection() -> str:
    """Every asset except extract review and release, which wait for a named reviewer by design."""
    from dl_platform.definitions import defs

    keys = [
        key.to_user_string()
        for key in defs.resolve_all_asset_keys()
        if not key.to_user_string().endswith(("/release", "/review"))
        and key.to_user_string() != GOVERNANCE_REPORT
    ]
    return ",".join(sorted(keys))


def demo_truth_env() -> dict[str, str]:
    """The demo measures accuracy against the truth it generated, unless DL_TRUTH_FILE names one."""
    s = get_settings()
    truth = s.data_dir / "truth.parquet"
    if s.truth_file is not None or not truth.exists():
        return {}
    return {"DL_TRUTH_FILE": str(truth)}


def materialize(selection: str | None = None, extra_env: dict[str, str] | None = None) -> int:
    """Materialise `selection` (default: the demo selection) with Dagster's CLI; returns its exit code."""
    env = {**platform_env(), **(extra_env or {})}
    cmd = [
        str(Path(sys.executable).parent / "dagster"), "asset", "materialize",
        "-m", "dl_platform.definitions", "--select", selection or demo_selection(),
    ]
    return run_child(cmd, env, REPO_DIR)


def summary() -> str:
    s = get_settings()
    return f"""
Demo complete. Where to look:
  warehouse (linkage zone + marts)  {s.warehouse_path}
  analyst marts (pseudonymous)      {s.marts_path}
      e.g. duckdb -readonly {s.marts_path} "select * from marts.dim_person limit 5"
  reports (linkage, quality, governance)  {s.reports_dir}
  research extracts (await review)  {s.extracts_dir}
  landing deliveries / later ones   {s.landing_dir}  /  {s.data_dir / 'pending'}
  Dagster UI:  make dev   then open http://127.0.0.1:3000  (runs and checks from this demo are there)
"""


def run_demo(persons: int, seed: int, fresh: bool = False) -> int:
    """Generate (unless landing already has data) and materialise everything."""
    from dl_platform.synthetic.generate import generate

    s = get_settings()
    started = time.monotonic()
    if fresh and s.data_dir.exists():
        shutil.rmtree(s.data_dir)
    ensure_key()
    marker = s.data_dir / GENERATING_MARKER
    if marker.exists():
        print("landing was left half-written by an interrupted demo; generating it again", file=sys.stderr)
    if marker.exists() or not any(s.landing_dir.glob("*/*")):
        s.data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{persons} {seed}\n")  # removed only once every file is written
        print(generate(persons, seed, s.data_dir).render())
        marker.unlink()
    else:
        print(f"landing already populated in {s.landing_dir}; reusing it (use --fresh to regenerate)")
    code = materialize(extra_env=demo_truth_env())
    # The governance report records failures too, so it runs even when a blocking check stopped the run.
    code = materialize(GOVERNANCE_REPORT) or code
    if code:
        print(f"\nSome assets failed (exit {code}); `make dev` shows which and why, and "
              f"{s.reports_dir / 'quality' / 'governance_report.html'} lists failed checks.", file=sys.stderr)
        return code
    print(summary())
    print(f"demo took {time.monotonic() - started:.0f}s")
    return 0


def run_dev(port: int = 3000) -> None:
    """Start `dagster dev` on the demo instance (replaces this process)."""
    env = platform_env()
    dagster = str(Path(sys.executable).parent / "dagster")
    os.chdir(REPO_DIR)
    os.execve(dagster, [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], env)
