"""The ``fastprep`` command line."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastprep", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the numeric transforms on the bundled Adult data, compare backends"
    )
    demo.add_argument("--repeat", type=int, default=5, help="timing repetitions (best is shown)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastprep.demo import run

        return run(repeat=args.repeat)
    return 2  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())
