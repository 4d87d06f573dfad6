"""The example services (examples/serving/): each started on loopback with a fitted artifact,
answering concurrent requests with the batch's numbers, bad records with a 4xx and
fastprep's message; the load test against one of them."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from fastprep.datasets import adult_pipeline, load_adult

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "serving"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """The Adult pipeline fitted on a table that also holds the label (not an input)."""
    table = load_adult()
    fitted = adult_pipeline().fit(table)
    path = tmp_path_factory.mktemp("serving") / "adult.fpa"
    fitted.save(path)
    records = [
        {c: (v.item() if hasattr(v, "item") else v) for c, v in zip(table, values, strict=True)}
        for values in zip(*(table[c][:300] for c in table), strict=True)
    ]
    for r in records:
        del r["salary"]  # a request has no label
    return path, fitted, records


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _service(script: str, *args: str):
    port = _free_port()
    command = [sys.executable, str(EXAMPLES / script), "--port", str(port), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{script} exited: {proc.stderr.read()}")
            try:
                status, _ = _call(port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{script} did not answer /healthz within 60 s")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _call(port: int, method: str, path: str, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _post(port: int, payload) -> tuple[int, dict]:
    return _call(port, "POST", "/transform", json.dumps(payload).encode())


def _check_service(port: int, fitted, records) -> None:
    expected = fitted.transform_records(records)
    names = [str(n) for n in fitted.get_feature_names_out()]
    status, health = _call(port, "GET", "/healthz")
    assert status == 200 and health["fingerprint"] == fitted.fingerprint
    # Concurrent single records and lists of records: the batch's numbers, exactly (JSON
    # carries a float's shortest repr, which reads back as the same float).
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda r: _post(port, r), records[:200]))
        lists = list(pool.map(lambda i: _post(port, records[i : i + 25]), range(0, 300, 25)))
    for i, (status, body) in enumerate(answers):
        assert status == 200, body
        np.testing.assert_array_equal(body["features"], expected[i])
    assert answers[0][1]["feature_names"] == names
    for k, (status, body) in enumerate(lists):
        assert status == 200, body
        np.testing.assert_array_equal(body["features"], expected[25 * k : 25 * k + 25])
    # Bad requests: a 4xx with fastprep's message, and the service keeps serving.
    lacking = {k: v for k, v in records[0].items() if k not in ("age", "sex")}
    status, body = _post(port, lacking)
    assert status == 422 and "lacks the columns 'age', 'sex'" in body["error"]
    status, body = _post(port, [records[0], lacking])
    assert status == 422 and "record 1 lacks" in body["error"]
    status, body = _post(port, {**records[0], "age": "forty"})
    assert status == 422 and "age" in body["error"]
    status, body = _call(port, "POST", "/transform", b"{not json")
    assert status == 400 and "not JSON" in body["error"]
    status, body = _post(port, [1, 2])
    assert status == 400 and "list of objects" in body["error"]
    status, _ = _call(port, "GET", "/nowhere")
    assert status == 404
    status, body = _post(port, {**records[0], "workclass": "Martian"})  # unknown: ignored
    assert status == 200
    status, body = _post(port, records[1])
    assert status == 200


def test_the_standard_library_service(artifact):
    path, fitted, records = artifact
    with _service("stdlib_server.py", "--artifact", str(path)) as port:
        _check_service(port, fitted, records)


def test_the_asgi_service_with_a_drift_monitor(artifact):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    path, fitted, records = artifact
    with _service("asgi_server.py", "--artifact", str(path), "--drift") as port:
        _check_service(port, fitted, records)
        status, report = _call(port, "GET", "/drift")
        assert status == 200 and set(report) >= {"age", "workclass"}
        assert "salary" not in report
        # 200 records + 12 lists of 25 + the 2 good records after the bad ones.
        assert report["age"]["rows"] == 200 + 300 + 2


def test_a_service_refuses_the_wrong_model(artifact):
    path, _, _ = artifact
    run = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "stdlib_server.py"),
            "--artifact",
            str(path),
            "--port",
            str(_free_port()),
            "--fingerprint",
            "0" * 64,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0 and "refusing to serve the wrong model" in run.stderr


def test_the_load_test(artifact, tmp_path):
    path, _, records = artifact
    record = tmp_path / "record.json"
    record.write_text(json.dumps(records[0]))
    with _service("stdlib_server.py", "--artifact", str(path)) as port:
        run = subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "loadtest.py"),
                "--url",
                f"http://127.0.0.1:{port}/transform",
                "--record",
                str(record),
                "--concurrency",
                "4",
                "--requests",
                "200",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["requests"] == 200 and result["failures"] == 0
    assert result["rps"] > 0 and 0 < result["p50_ms"] <= result["p99_ms"]
    refused = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "loadtest.py"),
            "--url",
            "http://example.com/x",
            "--record",
            str(record),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "loopback only" in refused.stderr
