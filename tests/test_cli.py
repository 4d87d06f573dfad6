"""The command line: ``fastprep inspect`` (the fingerprint verified by building the state,
text from the file escaped) and ``fastprep drift`` (exit codes for CI); ``fastprep demo`` has
tests/test_demo.py."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import fastprep as fp
from fastprep.cli import _safe
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult

from .helpers import adult_halves, replace_column, rewritten


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    return pa.table({c: table[c] for c in ADULT_NUMERIC + ADULT_CATEGORICAL}).slice(0, 3000)


@pytest.fixture(scope="module")
def drift_adult():
    return adult_halves()


@pytest.fixture(scope="module")
def drift_fitted(drift_adult):
    return adult_pipeline().fit(drift_adult[0])


def _inspect(*args):
    cmd = [sys.executable, "-m", "fastprep.cli", "inspect", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def test_inspect_prints_and_verifies_the_fingerprint(tmp_path, adult):
    path = adult_pipeline().fit(adult).save(tmp_path / "a.fpa", metadata={"model": "income"})
    run = subprocess.run(
        [sys.executable, "-m", "fastprep.cli", "inspect", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "ColumnTransformer" in run.stdout and "income" in run.stdout
    assert "drift profile    14 columns" in run.stdout
    assert fp.load(path).fingerprint in run.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "fastprep.cli", "inspect", "--json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(as_json.stdout)["fingerprint"] == fp.load(path).fingerprint
    (tmp_path / "bad.fpa").write_bytes(path.read_bytes()[:-1])
    bad = subprocess.run(
        [sys.executable, "-m", "fastprep.cli", "inspect", str(tmp_path / "bad.fpa")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "ArtifactError" in bad.stderr


def test_drift_exits_1_when_a_column_drifted(tmp_path, drift_fitted, drift_adult):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = drift_fitted.save(tmp_path / "adult.fpa")
    pq.write_table(drift_adult[1], tmp_path / "same.parquet")
    pacsv.write_csv(replace_column(drift_adult[1], "age", pc.add(drift_adult[1].column("age"), 10)),
                    tmp_path / "shifted.csv")  # fmt: skip

    def run(data):
        cmd = [sys.executable, "-m", "fastprep.cli", "drift", str(path), str(data)]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    same = run(tmp_path / "same.parquet")
    assert same.returncode == 0, same.stdout + same.stderr
    shifted = run(tmp_path / "shifted.csv")
    assert shifted.returncode == 1
    flagged = [line.split()[0] for line in shifted.stdout.splitlines() if "DRIFTED" in line]
    assert flagged == ["age"]
    assert run(tmp_path / "missing.csv").returncode == 2


def test_inspect_says_when_the_state_does_not_digest_to_the_recorded_fingerprint(tmp_path):
    scaler = fp.StandardScaler().fit(np.array([[1.0, 2.0], [3.0, 5.0]]))
    good = fp.dumps(scaler)

    def forged(m, t):
        m["fingerprint"] = "0" * 64

    (tmp_path / "forged.fpa").write_bytes(rewritten(good, forged))
    run = _inspect(tmp_path / "forged.fpa")
    assert run.returncode == 1
    assert "MISMATCH" in run.stdout and scaler.fingerprint in run.stdout
    as_json = _inspect("--json", tmp_path / "forged.fpa")
    assert json.loads(as_json.stdout)["fingerprint_verified"] is False
    unverified = _inspect("--no-verify", tmp_path / "forged.fpa")
    assert unverified.returncode == 0 and "not verified" in unverified.stdout
    (tmp_path / "good.fpa").write_bytes(good)
    assert json.loads(_inspect("--json", tmp_path / "good.fpa").stdout)["fingerprint_verified"]


def test_inspect_of_an_earlier_format_shows_both_fingerprints():
    path = "tests/artifacts/v4/standard_scaler.fpa"
    run = _inspect(path)
    assert run.returncode == 0, run.stderr
    assert "not verifiable" in run.stdout
    assert fp.load(path).fingerprint in run.stdout
    assert fp.inspect(path)["fingerprint"] in run.stdout


def test_inspect_escapes_control_and_formatting_characters(tmp_path):
    """Escape sequences and bidirectional overrides in a file's text reach the terminal
    escaped: metadata, column names and categories are written by whoever made the file."""
    evil = "\x1b]0;pwned\x07\x1b[2J\u202egnp.exe\x9b31m"
    table = {evil: ["a\x1b[31m", "b", "a"], "x": [1.0, 2.0, 3.0]}
    ct = fp.ColumnTransformer(
        [("c", fp.OneHotEncoder(sparse_output=False), [evil]), ("n", fp.StandardScaler(), ["x"])]
    ).fit(table)
    path = ct.save(tmp_path / "evil.fpa", metadata={evil: evil, "model": "ok"})
    run = _inspect(path)
    assert run.returncode == 0, run.stderr
    for ch in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert ch not in run.stdout
    assert "\\x1b]0;pwned" in run.stdout and "\\u202e" in run.stdout
    as_json = _inspect("--json", path)
    assert "\x1b" not in as_json.stdout and json.loads(as_json.stdout)["metadata"][evil] == evil
    assert _safe("ok é ü\t") == "ok é ü\\x09"


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """`fastprep inspect model.fpa | head -1`: no BrokenPipeError traceback."""
    path = tmp_path / "s.fpa"
    fp.StandardScaler().fit(np.eye(3)).save(path)
    process = subprocess.Popen(
        [sys.executable, "-m", "fastprep.cli", "inspect", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # before the command has written anything
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err
