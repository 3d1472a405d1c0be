"""`dl-platform review <project> <version> ...`: list flags, record decisions, from a terminal.

Reviews land in the same audit table (extracts.review_log) as the release asset's launchpad
route. Wire into the main CLI with `add_review_parser(subparsers)` or, in a `Command`
registry, `add_review_arguments` + `run_review`.
"""

from __future__ import annotations

import argparse

HELP = "list or review the disclosure flags of a research extract version (governance)"


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the review command's arguments on `parser`."""
    parser.add_argument("project", help="project id (config/projects/<project>.yaml)")
    parser.add_argument("version", help="extract version, e.g. v1 ('latest' for the newest)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="show every flag and its latest decision")
    what.add_argument(
        "--flag", action="append", metavar="ID", help="flag id to review (repeatable)"
    )
    what.add_argument("--all", action="store_true", help="apply the decision to every flag")
    parser.add_argument("--reviewer", help="your name (recorded in the audit table)")
    parser.add_argument("--decision", choices=("approve", "reject"), help="approve or reject")
    parser.add_argument("--reason", help="why (recorded in the audit table)")


def _print_state(state) -> None:
    if state.empty:
        print("(no flags)")
        return
    for row in state.itertuples():
        decision = row.decision if isinstance(row.decision, str) else "UNREVIEWED"
        who = f" by {row.reviewer}: {row.reason}" if isinstance(row.reviewer, str) else ""
        print(f"{row.flag_id:<48} {decision:<10} {row.description}{who}")


def run_review(args: argparse.Namespace) -> int:
    """Run the review command; returns the exit code (2 for a refused request)."""
    from dl_platform.extracts import review
    from dl_platform.resources import open_warehouse

    try:
        with open_warehouse(read_only=args.list) as conn:
            version = (
                review.latest_version(conn, args.project)
                if args.version == "latest"
                else args.version
            )
            if version is None:
                raise review.ReviewError(f"{args.project} has no extract version yet")
            if args.list:
                row = review.version_row(conn, args.project, version)
                if row is None:
                    raise review.ReviewError(f"{args.project} has no extract version '{version}'")
                print(f"{args.project} {version}: status {row['status']}")
                _print_state(review.review_state(conn, args.project, version))
                return 0
            ids = review.record_review(
                conn,
                project=args.project,
                version=version,
                reviewer=args.reviewer or "",
                decision=args.decision or "",
                reason=args.reason or "",
                flag_ids=None if args.all else args.flag,
                via="cli",
            )
            row = review.version_row(conn, args.project, version)
    except review.ReviewError as exc:
        print(f"refused: {exc}")
        return 2
    print(
        f"recorded {args.decision} by {args.reviewer} on {len(ids)} flag(s) of {args.project} {version}; "
        f"status now {row['status']}"
    )
    if row["status"] == "reviewed":
        print(
            f"every flag approved: materialise extracts/{args.project}/release to release {version}"
        )
    return 0


def add_review_parser(subparsers) -> argparse.ArgumentParser:
    """Add `review` to an argparse subparsers object; the parser's `func` runs it."""
    parser = subparsers.add_parser("review", help=HELP, description=HELP)
    add_review_arguments(parser)
    parser.set_defaults(func=run_review)
    return parser
