"""A bounded load test of a feature service on this machine.

    python examples/serving/loadtest.py --url http://127.0.0.1:8080/transform \\
        --record record.json --concurrency 16 --requests 10000

Each of ``--concurrency`` threads keeps one HTTP/1.1 connection and sends the record until
``--requests`` are done or ``--seconds`` have passed; prints requests per second and the
p50 / p99 latency. Loopback only: it refuses any other host.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def run(url: str, body: bytes, concurrency: int, requests: int, seconds: float) -> dict:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"loadtest: {parts.hostname} is not this machine; loopback only")
    lock = threading.Lock()
    latencies: list[float] = []
    failures = [0]
    left = [requests]
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        headers = {"Content-Type": "application/json"}
        while time.perf_counter() < deadline:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            start = time.perf_counter()
            conn.request("POST", parts.path or "/", body, headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                with lock:
                    failures[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def at(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3

    return {
        "requests": len(latencies),
        "failures": failures[0],
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": at(0.50) if latencies else float("nan"),
        "p99_ms": at(0.99) if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--record", required=True, help="a JSON file: one record or a list")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    with open(args.record, "rb") as f:
        body = f.read()
    json.loads(body)  # a bad record file fails here, not as a server error
    result = run(args.url, body, args.concurrency, args.requests, args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['requests']} requests ({result['failures']} failed) in "
            f"{result['seconds']:.2f} s: {result['rps']:,.0f} requests/s, "
            f"p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms"
        )
    sys.exit(1 if result["failures"] else 0)


if __name__ == "__main__":
    main()
