"""Build the dbt documentation site (the data dictionary and lineage) for users.

`python -m dl_platform.standardise.docs` (what `make docs` runs) generates dbt's docs against
the warehouse and copies them to `$DL_DATA_DIR/reports/dbt_docs/`; `static_index.html` there is
a single self-contained page to open in a browser, no server needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dl_platform.resources.dbt import dbt_env, dbt_executable
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import DBT_PROJECT_DIR, get_settings
from dl_platform.sources.registry import load_registry
from dl_platform.standardise.registry_vars import registry_vars_json

DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")


def generate_docs() -> Path:
    """Run `dbt docs generate --static` and publish the site under the reports folder.

    Returns:
        Path of the self-contained page (`static_index.html`).

    Raises:
        RuntimeError: dbt failed (its output names files and models, never data).
    """
    settings = get_settings()
    target = settings.tmp_dir / "dbt_docs_target"
    out = settings.reports_dir / "dbt_docs"
    registry = load_registry(settings.sources_file)
    warehouse = WarehouseResource.from_settings()
    # The catalog step connects to the warehouse as a writer (dbt-duckdb), so take the lock.
    with warehouse.writer_lock():
        completed = subprocess.run(
            [dbt_executable(), "docs", "generate", "--static", "--target-path", str(target),
             "--vars", registry_vars_json(registry)],
            cwd=DBT_PROJECT_DIR,
            env={**os.environ, **dbt_env(), "DL_WAREHOUSE_PATH": str(warehouse.path)},
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt docs generate failed:\n{completed.stdout}\n{completed.stderr}")
    out.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        if (target / name).exists():
            shutil.copy2(target / name, out / name)
    return out / "static_index.html"


def main() -> int:
    page = generate_docs()
    print(f"dbt docs (data dictionary and lineage): {page}")
    print(f"  or serve the folder: python -m http.server -d {page.parent} 8080")
    return 0


if __name__ == "__main__":
    sys.exit(main())
