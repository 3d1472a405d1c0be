"""Read the platform's YAML files (registry, project specs, linkage settings) defensively.

`yaml.safe_load` builds no objects, but it still accepts three things a configuration file
should never hold: a key given twice (the last one silently wins, so a registry with the
same source twice loads one of them), aliases that expand exponentially (a "billion laughs"
spec took 153 s and died with MemoryError in whatever walked it next) and files of any size.
Here each is refused at once with the file, line and key named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1 << 20  # a registry of hundreds of sources is ~100 KB
MAX_ALIASES = 100  # anchors are for a few shared blocks, not for building structures
MAX_NODES = 200_000  # values after every alias is expanded


class ConfigFileError(ValueError):
    """A configuration file that is unsafe or malformed; the message names file, line and key."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts aliases while composing and refuses duplicate keys."""

    def __init__(self, stream: str, where: str):
        super().__init__(stream)
        self.where = where
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise ConfigFileError(
                    f"{self.where}: line {mark.line + 1}: more than {MAX_ALIASES} aliases (*name); "
                    "write the values out instead"
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: SafeLoader explains it below
                continue
            if first != key_node.start_mark.line + 1:
                raise ConfigFileError(
                    f"{self.where}: line {key_node.start_mark.line + 1}: key '{key}' appears twice "
                    f"(first on line {first}); the later one would silently win"
                )
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Any, where: str) -> int:
    """Nodes in the document once every alias is expanded (shared nodes counted each time)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(n: Any) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ConfigFileError(f"{where}: line {n.start_mark.line + 1}: an alias refers to itself")
        active.add(key)
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in n.value)
        else:
            total = 1
        active.discard(key)
        sizes[key] = total = min(total, MAX_NODES + 1)
        return total

    return size(node)


def parse_yaml(text: str, where: str | Path) -> Any:
    """Parse one YAML document, refusing duplicate keys, alias bombs and oversized text.

    Args:
        text: the file's text.
        where: the file, for messages.

    Returns:
        The document (None when empty).

    Raises:
        ConfigFileError: the text is unsafe or not valid YAML; the message names file and line.
    """
    where = str(where)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ConfigFileError(f"{where}: larger than {MAX_BYTES // 1024} KB; a configuration file never is")
    loader = _Loader(text, where)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, where) > MAX_NODES:
            raise ConfigFileError(
                f"{where}: expands to more than {MAX_NODES} values through aliases (an alias bomb?)"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{where}: is not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def load_yaml(path: Path | str) -> Any:
    """Read and parse a YAML file (size checked before reading it whole)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ConfigFileError(f"{path}: {size} bytes is larger than {MAX_BYTES // 1024} KB; a configuration file never is")
    return parse_yaml(path.read_text(encoding="utf-8"), path)
