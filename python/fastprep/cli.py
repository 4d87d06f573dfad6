"""The ``fastprep`` command line (also ``python -m fastprep``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import unicodedata

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fastprep._answers import answers
from fastprep._state import CANONICAL_VERSION
from fastprep._version import __version__
from fastprep.artifact import inspect, load
from fastprep.demo import run as run_demo
from fastprep.drift import DEFAULT_THRESHOLDS, DriftMonitor
from fastprep.exceptions import ArtifactError, FastprepError

#: The first artifact format whose manifest records the fingerprint's current canonical form.
_FINGERPRINT_FORMAT = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fastprep",
        description="Fitted preprocessing as artifacts: run the demo, inspect an artifact, "
        "transform a file with it, or check live data for drift against its training profile.",
    )
    parser.add_argument("--version", action="version", version=f"fastprep {__version__}")
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
    drift.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a drift threshold, repeatable: "
        + ", ".join(f"{k} (default {v})" for k, v in DEFAULT_THRESHOLDS.items()),
    )
    transform = commands.add_parser(
        "transform",
        help="transform a file (CSV, Parquet or Arrow IPC) with an artifact, batch by batch, "
        "into Parquet or CSV with the feature names as columns (a pipeline that ends in a "
        "model: its prediction and class probabilities)",
    )
    transform.add_argument("artifact", help="the artifact of a fitted pipeline")
    transform.add_argument("input", help="a .csv, .parquet or .arrow / .feather / .ipc file")
    transform.add_argument("output", help="a .parquet or .csv file (written anew)")
    transform.add_argument(
        "--batch-rows", type=int, default=65536, help="rows per batch (default 65536)"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            code = run_demo(repeat=args.repeat)
        elif args.command == "inspect":
            code = _inspect(args.path, as_json=args.json, verify=not args.no_verify)
        elif args.command == "drift":
            code = _drift(args.artifact, args.data, as_json=args.json, thresholds=args.threshold)
        elif args.command == "transform":
            code = _transform(args.artifact, args.input, args.output, args.batch_rows)
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
    # Values line up after the longest label (16 wide, or a longer metadata key's).
    keys = [_safe(k) for k in info["metadata"]]
    label = max([16] + [len(f"metadata {k}") + 1 for k in keys])
    for key, value in zip(keys, info["metadata"].values(), strict=True):
        print(f"  {f'metadata {key}':<{label}} {_safe(value)}")
    profile = info["profile"]
    print(f"  inputs           {len(info['inputs'])} columns -> {_safe(info['outputs'])} outputs")
    rows = profile.get("rows")
    print(f"  rows at fit      {'unknown (no training profile)' if rows is None else _count(rows)}")
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


def _thresholds(pairs: list[str]) -> dict:
    """``NAME=VALUE`` options as a thresholds dict (a bad one is a ValueError)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in DEFAULT_THRESHOLDS:
            raise ValueError(
                f"--threshold takes NAME=VALUE with NAME one of {', '.join(DEFAULT_THRESHOLDS)}; "
                f"got {pair!r}"
            )
        out[name] = float(value)
    return out


def _drift(artifact: str, data: str, *, as_json: bool, thresholds: list[str] = ()) -> int:
    """Exit 0: no column drifted; 1: some did; 2: the artifact, data or options are unusable."""
    try:
        limits = _thresholds(list(thresholds))
        fitted = load(artifact)._front()
        if data.endswith(".parquet"):
            table = pq.read_table(data)
        else:
            table = pacsv.read_csv(data, convert_options=_csv_options())
        monitor = DriftMonitor(fitted, thresholds=limits).update(table)
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
        drifted = [_safe(n) for n, r in report.items() if r["drifted"]]
        rows = max((r["rows"] for r in report.values()), default=0)
        if drifted:
            print(
                f"{len(drifted)} of {len(report)} columns drifted ({rows:,} rows): "
                + ", ".join(drifted)
            )
        else:
            print(f"no column drifted ({len(report)} columns, {rows:,} rows)")
    return 1 if any(r["drifted"] for r in report.values()) else 0


def _csv_options() -> pacsv.ConvertOptions:
    # An empty CSV field is a missing value, in string columns too.
    return pacsv.ConvertOptions(strings_can_be_null=True)


def _batches(path: str, rows: int):
    """``(record batches, total rows or None)`` of a CSV, Parquet or Arrow IPC file, read a
    batch at a time (a file larger than memory streams through)."""
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        file = pq.ParquetFile(path)
        return file.iter_batches(batch_size=rows), file.metadata.num_rows
    if lower.endswith((".arrow", ".feather", ".ipc")):
        try:
            reader = pa.ipc.open_file(path)
            total = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
            return (reader.get_batch(i) for i in range(reader.num_record_batches)), total
        except pa.ArrowInvalid:
            return iter(pa.ipc.open_stream(path)), None
    if lower.endswith((".csv", ".csv.gz")):
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            convert_options=_csv_options(),
        )
        return iter(reader), None
    raise ValueError(f"{path}: the input must be .csv, .parquet or .arrow / .feather / .ipc")


class _Progress:
    """Rows done, rate and time left on a terminal's stderr; nothing when it is not one."""

    def __init__(self, total: int | None):
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.shown = sys.stderr.isatty()

    def add(self, rows: int) -> None:
        self.done += rows
        if not self.shown:
            return
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        line = f"{self.done:,} rows, {rate:,.0f} rows/s"
        if self.total:
            left = (self.total - self.done) / rate if rate else 0.0
            line = f"{100 * self.done / self.total:5.1f}% {line}, {left:,.0f} s left"
        print(f"\r{line}\x1b[K", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def _transform(artifact: str, source: str, target: str, batch_rows: int) -> int:
    """Exit 0: written; 2: the artifact, the input or the output is unusable."""
    if not target.lower().endswith((".parquet", ".csv")):
        print(f"fastprep transform: {target}: the output must be .parquet or .csv", file=sys.stderr)
        return 2
    writer = None
    progress = None
    try:
        fitted = load(artifact)
        schema, answer = answers(fitted)
        batches, total = _batches(source, max(1, batch_rows))
        progress = _Progress(total)
        for batch in batches:
            table = pa.Table.from_arrays(answer(batch), schema=schema)
            if writer is None:
                writer = (
                    pq.ParquetWriter(target, schema)
                    if target.lower().endswith(".parquet")
                    else pacsv.CSVWriter(target, schema)
                )
            writer.write_table(table)
            progress.add(batch.num_rows)
        if writer is None and target.lower().endswith(".parquet"):  # no rows: the columns
            pq.write_table(schema.empty_table(), target)
        elif writer is None:
            pacsv.write_csv(schema.empty_table(), target)
    except (FastprepError, OSError, ValueError, pa.ArrowException) as exc:
        print(f"fastprep transform: {type(exc).__name__}: {_safe(str(exc))}", file=sys.stderr)
        return 2
    finally:
        if writer is not None:
            writer.close()
        if progress is not None:
            progress.close()
    return 0


def _count(v) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else _safe(v)


def _number(v, width: int) -> str:
    # round then + 0.0: a tiny negative value prints as 0.000, never -0.000
    return f"{round(v, 3) + 0.0:>{width}.3f}" if isinstance(v, float) else " " * width


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
