"""The example analyst queries shipped with the platform (analyst_queries.sql), by name.

They document how to use the marts and are run by the tests, so an example never rots.
"""

from __future__ import annotations

from pathlib import Path

QUERIES_FILE = Path(__file__).with_name("analyst_queries.sql")


def load_analyst_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """Queries in `path`, keyed by their `-- name:` line, in file order.

    Args:
        path: a SQL file of `-- name: <name>` headed statements, each ending with `;`.

    Returns:
        name -> SQL text (without the trailing semicolon).
    """
    queries: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("-- name:"):
            name, lines = line.split(":", 1)[1].strip(), []
            continue
        if name is None:
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            queries[name] = "\n".join(lines).rstrip().rstrip(";")
            name = None
    return queries
