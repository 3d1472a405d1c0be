"""Synthetic populations for the linkage benchmarks and profile tests, standardised by the
real graph: `dl-platform synth --profile P`, then raw loads, source checks and dbt up to
`intermediate.int_identifiers_standardised` — the table the linkage and the bare-Splink
baseline both read.

`prepare` goes through the user's CLI (`dl-platform materialize`, with `DL_SOURCES_FILE` set
to the profile's registry) and caches: a root holding `prepared.json` for the same profile,
size, seed and inputs (the generator, raw loader, dbt project and registry, by content) is
reused; any change to those prepares it again. `build_in_process` is the faster path for `make test`: the same raw,
dbt and linkage assets, materialised with `dagster.materialize` in the calling process.

A blocking source check (e.g. NHS-number completeness on a harsh feed) stops dbt in the CLI
run. The platform is right to stop there, but the linkage still has to be measured: the
failed checks are recorded in `prepared.json` (`blocked_by`, printed by the bench) and dbt is
then built on its own, from the raw tables already loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STANDARDISED = "intermediate/int_identifiers_standardised"
MARKER = "prepared.json"
# What the platform logs for a failed ERROR check, and what Dagster says blocked the run.
_ERROR_LINE = re.compile(r" - (\w+) (\w+) \[ERROR\]: (.+)$", re.MULTILINE)
_BLOCKED = re.compile(r"^(raw/\w+): (\w+)\s*$", re.MULTILINE)
_FAILED_STEPS = re.compile(r"Steps failed: \[([^\]]*)\]")
_SOURCE_CHECK_STEP = re.compile(r"^quality_\w+_source_checks$")


def registry_for(profile: str) -> Path:
    """The source registry a profile's deliveries are described by."""
    from dl_platform.synthetic.profiles import registry_path

    return Path(registry_path(profile)).resolve()


def profile_env(profile: str, data_dir: Path) -> dict[str, str]:
    """Environment of a user running the platform on this profile's data (no truth file)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DL_TRUTH_FILE", "DAGSTER_HOME")}
    env.update(DL_DATA_DIR=str(data_dir), DL_SOURCES_FILE=str(registry_for(profile)))
    return env


def _scratch(path: Path) -> bool:
    """Editor and interpreter leftovers, which change nothing a run reads."""
    return "__pycache__" in path.parts or path.name.startswith(".") or path.name.endswith(("~", ".swp", ".tmp"))


def inputs_fingerprint(registry: Path) -> str:
    """A digest of everything the standardised table is made from, besides profile/size/seed."""
    from dl_platform.settings import DBT_PROJECT_DIR, PACKAGE_DIR

    roots = [DBT_PROJECT_DIR / n for n in ("dbt_project.yml", "models", "macros", "seeds")]
    roots += [PACKAGE_DIR / n for n in ("synthetic", "sources", "standardise")] + [registry]
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in (f for f in files if not _scratch(f)):
            digest.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def _cli(args: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dl-platform"), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def blocking_source_checks(log: str) -> list[dict[str, str]]:
    """The blocking source checks that failed a CLI run, from its log.

    Raises:
        RuntimeError: the run failed for any other reason (the log tail is included).
    """
    steps = [s.strip().strip("'\"") for m in _FAILED_STEPS.finditer(log) for s in m.group(1).split(",")]
    blocked = _BLOCKED.findall(log)
    if not steps or not blocked or not all(_SOURCE_CHECK_STEP.match(s) for s in steps):
        raise RuntimeError(f"preparing the population failed:\n{log[-4000:]}")
    reasons = {(f"raw/{src}", check): text for src, check, text in _ERROR_LINE.findall(log)}
    return [{"asset": a, "check": c, "reason": reasons.get((a, c), "")} for a, c in sorted(set(blocked))]


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for a block (dbt's resource also exports into os.environ)."""
    saved = dict(os.environ)
    try:
        os.environ.update(values)
        os.environ.pop("DL_TRUTH_FILE", None)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _dbt_linkage_input_keys(profile: str, data_dir: Path) -> list[str]:
    """Every asset dbt builds for the linkage input (seeds, staging, intermediate)."""
    from dl_platform.sources.registry import load_registry
    from dl_platform.standardise.assets import build_dbt_assets

    with _environ(DL_DATA_DIR=str(data_dir), DL_SOURCES_FILE=str(registry_for(profile))):
        linkage_input = build_dbt_assets(load_registry(registry_for(profile)))[0]
    return sorted(k.to_user_string() for k in linkage_input.keys)


def prepare(profile: str, persons: int, seed: int, root: Path, timeout: int = 7200) -> Path:
    """Synthesise `profile` and standardise it through the real graph; reuse a prepared root.

    Args:
        profile: error profile (`dl-platform synth --list-profiles`).
        persons: persons in the register.
        seed: generator seed.
        root: folder for this population (its data dir is `root/data`).
        timeout: seconds allowed for each CLI step.

    Returns:
        The data dir (DL_DATA_DIR): landing, truth files and the warehouse with
        `intermediate.int_identifiers_standardised`.

    Raises:
        RuntimeError: a step failed other than by a blocking source check.
    """
    data_dir, marker = root / "data", root / MARKER
    wanted = {"profile": profile, "persons": persons, "seed": seed,
              "inputs": inputs_fingerprint(registry_for(profile))}
    if marker.exists() and {k: v for k, v in json.loads(marker.read_text()).items() if k in wanted} == wanted:
        return data_dir
    marker.unlink(missing_ok=True)  # written last: without it, whatever is there is partial
    shutil.rmtree(data_dir, ignore_errors=True)
    env = profile_env(profile, data_dir)
    started = time.monotonic()
    synth = _cli(["synth", "--profile", profile, "--persons", str(persons), "--seed", str(seed),
                  "--out", str(data_dir)], env, timeout)
    if synth.returncode:
        raise RuntimeError(f"dl-platform synth failed:\n{(synth.stdout + synth.stderr)[-3000:]}")
    synth_seconds = time.monotonic() - started
    run = _cli(["materialize", "--select", f"*{STANDARDISED}"], env, timeout)
    blocked: list[dict[str, str]] = []
    if run.returncode:
        blocked = blocking_source_checks(run.stdout + run.stderr)
        dbt_only = _cli(["materialize", "--select", ",".join(_dbt_linkage_input_keys(profile, data_dir))],
                        env, timeout)
        if dbt_only.returncode:
            raise RuntimeError(f"dbt after blocked source checks failed:\n{(dbt_only.stdout + dbt_only.stderr)[-4000:]}")
    marker.write_text(json.dumps({
        **wanted, "registry": str(registry_for(profile)), "blocked_by": blocked,
        "synth_seconds": round(synth_seconds, 1), "prepare_seconds": round(time.monotonic() - started, 1),
    }, indent=2))
    return data_dir


def prepared(root: Path) -> dict[str, Any]:
    """What `prepare` recorded for `root` (profile, size, seed, registry, blocked_by, seconds)."""
    return json.loads((root / MARKER).read_text())


def build_in_process(profile: str, persons: int, seed: int, data_dir: Path) -> Any:
    """Generate `profile` and materialise raw -> dbt -> `mpi/linkage_model` -> `mpi/record_person`
    in this process, with `DL_DATA_DIR`/`DL_SOURCES_FILE` set for the call only.

    The assets are the code location's own, built by its stage factories for the profile's
    registry (what `definitions.py` merges under that `DL_SOURCES_FILE`); source checks are
    left out (they are tested on their own, and a harsh feed trips the blocking ones), dbt's
    tests run inside `dbt build` as always.

    Returns:
        The `dagster.materialize` result (raises on any failed step).
    """
    import dagster as dg

    from dl_platform.linkage.assets import linkage_model, record_person
    from dl_platform.resources import WarehouseResource
    from dl_platform.resources.dbt import build_dbt_resource
    from dl_platform.sources.factory import build_raw_assets
    from dl_platform.sources.registry import load_registry
    from dl_platform.standardise.assets import build_dbt_assets
    from dl_platform.synthetic.generate import generate

    with _environ(DL_DATA_DIR=str(data_dir), DL_SOURCES_FILE=str(registry_for(profile))):
        generate(persons, seed, data_dir, profile=profile)
        registry = load_registry(registry_for(profile))
        assets = [*build_raw_assets(registry), build_dbt_assets(registry)[0], linkage_model, record_person]
        return dg.materialize(
            assets, resources={"warehouse": WarehouseResource.from_settings(), "dbt": build_dbt_resource()}
        )
