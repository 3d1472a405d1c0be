"""The dbt project's rule macros rendered to SQL for code that runs outside dbt.

A valid date, NHS number or postcode is defined once, in a dbt macro. Raw loading and the
source checks run before dbt and must apply the same definitions, so they render those
macros here rather than re-implementing them in pandas: one definition, two callers.

Only self-contained SQL macros are supported (those building an expression from their
arguments, dispatching per adapter with `adapter.dispatch`); macros that query the
warehouse (`run_query`) or define tests are not loaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

MACRO_DIRS = ("dates", "identifiers", "codes")
_ADAPTER = "duckdb"


def macros_dir() -> Path:
    """`dbt_project/macros` of this checkout (the package ships beside it)."""
    return Path(__file__).resolve().parents[2] / "dbt_project" / "macros"


class _Adapter:
    """The one piece of dbt's `adapter` the rule macros use: per-adapter dispatch."""

    def __init__(self) -> None:
        self.module: Any = None

    def dispatch(self, name: str, _package: str | None = None) -> Any:
        for candidate in (f"{_ADAPTER}__{name}", f"default__{name}", name):
            macro = getattr(self.module, candidate, None)
            if macro is not None:
                return macro
        raise KeyError(f"no macro {name!r} for {_ADAPTER}")


@cache
def _environment() -> tuple[jinja2.Environment, Any]:
    root = macros_dir()
    source = "\n".join(
        p.read_text(encoding="utf-8") for d in MACRO_DIRS for p in sorted((root / d).glob("*.sql"))
    )
    adapter = _Adapter()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    # dbt's return() ends a macro with a value; every rule macro returns its whole body, so
    # rendering the value in place is equivalent.
    env.globals.update(adapter=adapter, execute=True, **{"return": lambda value: value})
    adapter.module = env.from_string(source).module
    return env, adapter.module


def _module() -> Any:
    return _environment()[1]


def render(name: str, *args: Any, **kwargs: Any) -> str:
    """SQL of rule macro `name` applied to `args` (SQL expressions), e.g.
    `render("parse_date", "dob")`.

    Raises:
        KeyError: no macro of that name is defined.
    """
    macro = getattr(_module(), name, None)
    if macro is None:
        raise KeyError(f"no dbt macro {name!r} under {macros_dir()}")
    return " ".join(str(macro(*args, **kwargs)).split())


def render_template(template: str) -> str:
    """SQL of a Jinja template calling rule macros, as `dbt compile --inline` would render it
    (used to prove the two renderings agree)."""
    env, module = _environment()
    macros = {name: getattr(module, name) for name in dir(module) if not name.startswith("_")}
    return env.from_string(template).render(**macros)
