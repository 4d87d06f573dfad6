"""The ``fastprep`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fastprep._state import CANONICAL_VERSION
from fastprep.artifact import inspect, load
from fastprep.demo import run as run_demo
from fastprep.drift import DriftMonitor
from fastprep.exceptions import ArtifactError, FastprepError

#: The first artifact format whose manifest records the fingerprint's current canonical form.
_FINGERPRINT_FORMAT = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastprep", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the numeric transforms on the bundled Adult data, compare backends"
    )
    demo.add_argument("--repeat", type=int, default=5, help="timing repetitions (best is shown)")
    inspect_cmd = commands.add_parser(
        "inspect",
        help="print what an artifact holds: its digest is checked, and its state is built to "
        "verify the fingerprint it records (--no-verify: not built)",
    )
    inspect_cmd.add_argument("path", help="the artifact file")
    inspect_cmd.add_argument("--json", action="store_true", help="print the whole manifest as JSON")
    inspect_cmd.add_argument(
        "--no-verify", action="store_true", help="do not build the state to verify the fingerprint"
    )
    drift = commands.add_parser(
        "drift",
        help="compare data (CSV or Parquet) with an artifact's training profile; exit 1 if a "
        "column drifted",
    )
    drift.add_argument("artifact", help="the artifact of a fitted Pipeline / ColumnTransformer")
    drift.add_argument("data", help="live data: a .csv or .parquet file")
    drift.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            code = run_demo(repeat=args.repeat)
        elif args.command == "inspect":
            code = _inspect(args.path, as_json=args.json, verify=not args.no_verify)
        elif args.command == "drift":
            code = _drift(args.artifact, args.data, as_json=args.json)
        else:  # pragma: no cover - argparse refuses unknown commands
            return 2
        sys.stdout.flush()  # a pipe's buffer: its error is raised here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`fastprep inspect model.fpa | head -3`): stop quietly, and
        # keep Python's flush at exit from failing on the same pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _safe(value) -> str:
    """Text from a file, printable on a terminal: control and formatting characters (escape
    sequences, bidirectional overrides) are shown escaped, never written as they are."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _verification(path: str, info: dict) -> tuple[bool | None, str]:
    """Whether the recorded fingerprint is the built state's, and what to say about it."""
    version = info.get("format_version")
    try:
        built = load(path).fingerprint
    except FastprepError as exc:
        return False, f"NOT VERIFIED: the state does not load ({_safe(str(exc))})"
    if not isinstance(version, int) or version < _FINGERPRINT_FORMAT:
        return None, (
            f"not verifiable: format {_safe(version)} recorded an earlier canonical form; the "
            f"state loads, and its fingerprint (form {CANONICAL_VERSION}) is {built}"
        )
    if built != info["fingerprint"]:
        return False, f"MISMATCH: the state digests to {built}"
    return True, "verified: the state loads and digests to it"


def _inspect(path: str, *, as_json: bool, verify: bool = True) -> int:
    try:
        info = inspect(path)
    except (ArtifactError, OSError) as exc:
        print(f"fastprep inspect: {type(exc).__name__}: {_safe(str(exc))}", file=sys.stderr)
        return 1
    verified, verdict = (None, "not verified (--no-verify)")
    if verify:
        verified, verdict = _verification(path, info)
    if as_json:
        info["fingerprint_verified"] = verified
        print(json.dumps(info, indent=2, ensure_ascii=True))
        return 0 if verified is not False else 1
    print(f"{_safe(path)}: {_safe(info['kind'])}, {info['size']:,} bytes")
    print(f"  fingerprint      {_safe(info['fingerprint'])}")
    print(f"                   {verdict}")
    print(
        f"  format           {_safe(info['format_version'])} (readers from "
        f"{_safe(info['min_reader_version'])}), written by fastprep "
        f"{_safe(info['fastprep_version'])}"
    )
    for key, value in info["metadata"].items():
        print(f"  metadata {_safe(key):<8}{_safe(value)}")
    profile = info["profile"]
    print(f"  inputs           {len(info['inputs'])} columns -> {_safe(info['outputs'])} outputs")
    print(f"  rows at fit      {_count(profile.get('rows'))}")
    width = max([len(_safe(c["name"])) for c in info["inputs"]] + [6])
    for column in info["inputs"]:
        stats = profile["columns"].get(column["name"], {})
        print(
            f"    {_safe(column['name']):<{width}}  {_safe(column['type']):<11} {_summary(stats)}"
        )
    drift = info.get("drift") or []
    if drift:
        print(f"  drift profile    {len(drift)} columns (fastprep drift ARTIFACT DATA)")
    print(f"  arrays           {len(info['arrays'])}")
    return 0 if verified is not False else 1


def _drift(artifact: str, data: str, *, as_json: bool) -> int:
    """Exit 0: no column drifted; 1: some did; 2: the artifact or the data is unusable."""
    try:
        fitted = load(artifact)._front()
        if data.endswith(".parquet"):
            table = pq.read_table(data)
        else:
            # An empty CSV field is a missing value, in string columns too.
            options = pacsv.ConvertOptions(strings_can_be_null=True)
            table = pacsv.read_csv(data, convert_options=options)
        monitor = DriftMonitor(fitted).update(table)
    except (FastprepError, OSError, ValueError) as exc:
        print(f"fastprep drift: {type(exc).__name__}: {_safe(str(exc))}", file=sys.stderr)
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
            print(f"{_safe(name):<20} {r['type']:<11} {r['rows']:>8} {cells}  {flag}")
    return 1 if any(r["drifted"] for r in report.values()) else 0


def _count(v) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else _safe(v)


def _number(v, width: int) -> str:
    return f"{v:>{width}.3f}" if isinstance(v, float) else " " * width


def _summary(stats: dict) -> str:
    if not isinstance(stats, dict) or not stats:
        return ""
    missing = f"missing {_count(stats.get('missing'))}"
    if stats.get("type") == "numeric":
        if not isinstance(stats.get("min"), float):
            return missing
        return (
            f"{missing}, min {stats['min']:.6g}, max {stats['max']:.6g}, mean {stats['mean']:.6g}"
        )
    top = ", ".join(f"{_safe(v)} ({_count(n)})" for v, n in stats.get("most_frequent", [])[:3])
    return f"{missing}, {_count(stats.get('categories'))} categories, top: {top}"


if __name__ == "__main__":
    sys.exit(main())
