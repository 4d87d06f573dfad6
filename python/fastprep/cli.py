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
    drift = commands.add_parser(
        "drift",
        help="compare data (CSV or Parquet) with an artifact's training profile; exit 1 if a "
        "column drifted",
    )
    drift.add_argument("artifact", help="the artifact of a fitted Pipeline / ColumnTransformer")
    drift.add_argument("data", help="live data: a .csv or .parquet file")
    drift.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastprep.demo import run

        return run(repeat=args.repeat)
    if args.command == "inspect":
        return _inspect(args.path, as_json=args.json)
    if args.command == "drift":
        return _drift(args.artifact, args.data, as_json=args.json)
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
    drift = info.get("drift") or []
    if drift:
        print(f"  drift profile    {len(drift)} columns (fastprep drift ARTIFACT DATA)")
    print(f"  arrays           {len(info['arrays'])}")
    return 0


def _drift(artifact: str, data: str, *, as_json: bool) -> int:
    """Exit 0: no column drifted; 1: some did; 2: the artifact or the data is unusable."""
    import json

    import fastprep as fp
    from fastprep.artifact import _front
    from fastprep.drift import DriftMonitor

    try:
        fitted = _front(fp.load(artifact))
        if data.endswith(".parquet"):
            import pyarrow.parquet as pq

            table = pq.read_table(data)
        else:
            import pyarrow.csv as pacsv

            # An empty CSV field is a missing value, in string columns too.
            options = pacsv.ConvertOptions(strings_can_be_null=True)
            table = pacsv.read_csv(data, convert_options=options)
        monitor = DriftMonitor(fitted).update(table)
    except (fp.FastprepError, OSError, ValueError) as exc:
        print(f"fastprep drift: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    report = monitor.report()
    if as_json:
        print(json.dumps(report, indent=2, default=str))
    else:
        head = f"{'column':<20} {'type':<11} {'rows':>8} {'psi':>7} {'js':>6} {'ks':>6} "
        head += f"{'missing':>8} {'unseen':>7}  drifted"
        print(head)
        print("-" * len(head))
        for name, r in report.items():
            keys = (("psi", 7), ("js", 6), ("ks", 6), ("missing_change", 8), ("unseen", 7))
            cells = " ".join(_number(r.get(key), width) for key, width in keys)
            flag = "DRIFTED" if r["drifted"] else ""
            print(f"{name:<20} {r['type']:<11} {r['rows']:>8} {cells}  {flag}")
    return 1 if any(r["drifted"] for r in report.values()) else 0


def _number(v, width: int) -> str:
    return f"{v:>{width}.3f}" if isinstance(v, float) else " " * width


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
