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
    inspect = commands.add_parser(
        "inspect", help="print what an artifact holds (checks its digest, builds nothing)"
    )
    inspect.add_argument("path", help="the artifact file")
    inspect.add_argument("--json", action="store_true", help="print the whole manifest as JSON")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastprep.demo import run

        return run(repeat=args.repeat)
    if args.command == "inspect":
        return _inspect(args.path, as_json=args.json)
    return 2  # pragma: no cover - argparse refuses unknown commands


def _inspect(path: str, *, as_json: bool) -> int:
    import json

    import fastprep as fp

    try:
        info = fp.inspect(path)
    except (fp.ArtifactError, OSError) as exc:
        print(f"fastprep inspect: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"{path}: {info['kind']}, {info['size']:,} bytes")
    print(f"  fingerprint      {info['fingerprint']}")
    print(
        f"  format           {info['format_version']} (readers from "
        f"{info['min_reader_version']}), written by fastprep {info['fastprep_version']}"
    )
    for key, value in info["metadata"].items():
        print(f"  metadata {key:<8}{json.dumps(value, ensure_ascii=False)}")
    profile = info["profile"]
    print(f"  inputs           {len(info['inputs'])} columns -> {info['outputs']} outputs")
    print(f"  rows at fit      {profile.get('rows')}")
    width = max([len(c["name"]) for c in info["inputs"]] + [6])
    for column in info["inputs"]:
        stats = profile["columns"].get(column["name"], {})
        print(f"    {column['name']:<{width}}  {column['type']:<11} {_summary(stats)}")
    print(f"  arrays           {len(info['arrays'])}")
    return 0


def _summary(stats: dict) -> str:
    if not stats:
        return ""
    missing = f"missing {stats['missing']:,}"
    if stats.get("type") == "numeric":
        return (
            f"{missing}, min {stats['min']:.6g}, max {stats['max']:.6g}, mean {stats['mean']:.6g}"
            if isinstance(stats["min"], float)
            else missing
        )
    top = ", ".join(f"{v!s} ({n:,})" for v, n in stats["most_frequent"][:3])
    return f"{missing}, {stats['categories']:,} categories, top: {top}"


if __name__ == "__main__":
    sys.exit(main())
