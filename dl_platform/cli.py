"""The `dl-platform` command line: one subcommand per task, registered in `COMMANDS`.

Adding a subcommand is one entry: a function that adds its arguments to a subparser and
a function that runs it (`Command`). Heavy imports happen inside the run functions so
`dl-platform --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Command:
    """A subcommand: its help, how it declares its arguments, and what it runs."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=10_000, help="persons in PDS")
    parser.add_argument("--seed", type=int, default=42, help="random seed (deterministic)")
    parser.add_argument("--out", type=Path, default=None, help="output root (default: DL_DATA_DIR)")
    parser.add_argument("--profile", default="gentle",
                        help="error profile (default: gentle; --list-profiles lists them and their rates)")
    parser.add_argument("--list-profiles", action="store_true",
                        help="print every profile's description and error rates, then exit")


def _synth(args: argparse.Namespace) -> int:
    from dl_platform.settings import get_settings
    from dl_platform.synthetic.generate import generate
    from dl_platform.synthetic.profiles import PROFILES, describe_all, registry_path

    if args.list_profiles:
        print(describe_all())
        return 0
    if args.profile not in PROFILES:
        raise SystemExit(f"--profile: unknown profile '{args.profile}' (known: {', '.join(PROFILES)})")
    if args.persons < 1:
        raise SystemExit("--persons must be at least 1")
    settings = get_settings()
    out = args.out if args.out is not None else settings.data_dir
    summary = generate(args.persons, args.seed, out, profile=args.profile)
    print(summary.render())
    print(f"written under {out} (profile {args.profile})")
    registry = registry_path(args.profile)
    if registry.resolve() != Path(settings.sources_file).resolve():
        print(f"this profile's sources are described by another registry: "
              f"set DL_SOURCES_FILE={registry}")
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=2_000, help="persons in the demo population")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--fresh", action="store_true", help="delete DL_DATA_DIR first")


def _demo(args: argparse.Namespace) -> int:
    from dl_platform.demo import run_demo

    return run_demo(args.persons, args.seed, fresh=args.fresh)


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def _materialize_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--select", default=None,
                        help="Dagster asset selection (default: everything but extract review/release)")


def _materialize(args: argparse.Namespace) -> int:
    from dl_platform.demo import materialize

    return materialize(args.select)


def _dev_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=3000, help="port for the Dagster UI on 127.0.0.1")


def _dev(args: argparse.Namespace) -> int:
    from dl_platform.demo import run_dev

    run_dev(args.port)
    return 0


def _docs(args: argparse.Namespace) -> int:
    from dl_platform.standardise.docs import main as docs_main

    return docs_main()


def _key(args: argparse.Namespace) -> int:
    from dl_platform.demo import ensure_key

    ensure_key()
    print("pseudonymisation key is available (value not shown)")
    return 0


def _recover(args: argparse.Namespace) -> int:
    from dl_platform.operations.instance import dagster_home, recover_instance

    if not recover_instance(dagster_home()):
        print("no dead runs: nothing to recover")
    return 0


def _review_command() -> Command:
    from dl_platform.extracts import cli as extracts_cli

    return Command(extracts_cli.HELP, extracts_cli.add_review_arguments, extracts_cli.run_review)


COMMANDS: dict[str, Command] = {
    "synth": Command(
        "generate the synthetic population's deliveries and truth", _synth_arguments, _synth
    ),
    "demo": Command("generate the demo population and materialise every asset",
                    _demo_arguments, _demo),
    "materialize": Command("materialise assets through Dagster's CLI on the demo instance",
                           _materialize_arguments, _materialize),
    "dev": Command("open the Dagster UI (dagster dev) on the demo instance", _dev_arguments, _dev),
    "docs": Command("build the dbt docs site (data dictionary and lineage)", _no_arguments, _docs),
    "key": Command("ensure a pseudonymisation key exists (generates a local demo key if unset)",
                   _no_arguments, _key),
    "recover": Command("fail runs whose process was killed and free the warehouse pool "
                       "(every command also does this when it starts)", _no_arguments, _recover),
    "review": _review_command(),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    from dl_platform import __version__

    parser = argparse.ArgumentParser(prog="dl-platform", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dl-platform {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `dl-platform` console script."""
    from dl_platform.settings import SettingsError, get_settings

    args = build_parser().parse_args(argv)
    try:
        get_settings()  # an unusable setting stops here, before any work
    except SettingsError as exc:
        raise SystemExit(f"dl-platform: {exc}") from None
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
