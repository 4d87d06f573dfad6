"""Turn a pytest-benchmark JSON file into the ratio table of benches/README.md.

    python benches/report.py .benchmarks/latest.json

For each group (one operation on one dtype), every implementation's median time divided by
fastprep-rust's: a ratio above 1 means rust is that many times faster. ``copy`` is a plain NumPy
copy of the input, the memory-bandwidth floor.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict

ORDER = ["rust", "python", "sklearn", "numpy", "polars", "copy"]


def _impl(bench: dict) -> str:
    params = bench.get("params") or {}
    if "impl" in params:
        return params["impl"]
    match = re.search(r"\[(.*)\]", bench["name"])
    return match.group(1).split("-")[-1] if match else bench["name"]


def main(path: str) -> None:
    with open(path) as f:
        data = json.load(f)
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in data["benchmarks"]:
        groups[bench["group"]][_impl(bench)] = bench["stats"]["median"]
    seen = {i for times in groups.values() for i in times}
    order = [i for i in ORDER if i in seen] + sorted(seen - set(ORDER))
    print("| operation | rust (ms) | " + " | ".join(f"{i} / rust" for i in order[1:]) + " |")
    print("|---|---:|" + "---:|" * (len(order) - 1))
    for group in sorted(groups):
        times = groups[group]
        rust = times.get("rust")
        if rust is None:
            continue
        cells = [f"{times[i] / rust:.2f}" if i in times else "" for i in order[1:]]
        print(f"| {group} | {rust * 1e3:.3f} | " + " | ".join(cells) + " |")
    info = data.get("machine_info", {})
    print(f"\n{info.get('cpu', {}).get('brand_raw', '')}, {info.get('python_version', '')}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".benchmarks/latest.json")
