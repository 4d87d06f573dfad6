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


def _cli(*args, module="fastprep.cli"):
    cmd = [sys.executable, "-m", module, *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)


def test_version_help_and_python_m(tmp_path):
    version = _cli("--version", module="fastprep")
    assert version.returncode == 0 and version.stdout.strip() == f"fastprep {fp.__version__}"
    helped = _cli("--help", module="fastprep")
    assert helped.returncode == 0 and "transform" in helped.stdout and "``" not in helped.stdout
    for command in ("inspect", "drift", "transform", "demo"):
        text = _cli(command, "--help").stdout
        assert "``" not in text and "usage: fastprep" in text


@pytest.mark.parametrize("source", ["parquet", "csv", "arrow"])
@pytest.mark.parametrize("target", ["parquet", "csv"])
def test_transform_streams_a_file_through_an_artifact(
    tmp_path, drift_fitted, adult, source, target
):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = drift_fitted.save(tmp_path / "adult.fpa")
    data = tmp_path / f"in.{source}"
    if source == "parquet":
        pq.write_table(adult, data, row_group_size=700)
    elif source == "csv":
        pacsv.write_csv(adult, data)
    else:
        with pa.ipc.new_file(data, adult.schema) as writer:
            for batch in adult.to_batches(max_chunksize=900):
                writer.write_batch(batch)
    out = tmp_path / f"out.{target}"
    run = _cli("transform", path, data, out, "--batch-rows", 500)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no progress bar when stderr is not a terminal
    got = pq.read_table(out) if target == "parquet" else pacsv.read_csv(out)
    names = [str(n) for n in drift_fitted.get_feature_names_out()]
    assert got.column_names == names and got.num_rows == adult.num_rows
    # CSV input is typed by pyarrow's inference: the same numbers as the table it was.
    expected = drift_fitted.transform(adult)
    np.testing.assert_allclose(
        np.column_stack([got.column(n).to_numpy() for n in names]), expected, rtol=1e-15
    )


def test_transform_of_a_pipeline_ending_in_a_model_writes_its_predictions(tmp_path, adult):
    """A converted scikit-learn pipeline that ends in a classifier: the prediction and each
    class's probability per row; a regressor: the prediction."""
    import pyarrow.parquet as pq

    pd = pytest.importorskip("pandas")
    skc = pytest.importorskip("sklearn.compose")
    skl = pytest.importorskip("sklearn.linear_model")
    skp = pytest.importorskip("sklearn.pipeline")
    skpp = pytest.importorskip("sklearn.preprocessing")
    from sklearn.impute import SimpleImputer

    frame = adult.to_pandas()
    labels = np.where(frame["age"] > 40, "older", "younger")
    prep = skc.ColumnTransformer(
        [
            ("num", skp.make_pipeline(SimpleImputer(), skpp.StandardScaler()), ["hours_per_week"]),
            ("cat", skpp.OneHotEncoder(handle_unknown="ignore"), ["workclass"]),
        ]
    )
    data = tmp_path / "in.parquet"
    pq.write_table(adult, data)
    for final, y in ((skl.LogisticRegression(), labels), (skl.Ridge(), frame["age"].to_numpy())):
        model = fp.from_sklearn(skp.Pipeline([("prep", prep), ("model", final)]).fit(frame, y))
        path = model.save(tmp_path / "model.fpa")
        out = tmp_path / "out.parquet"
        run = _cli("transform", path, data, out, "--batch-rows", 700)
        assert run.returncode == 0, run.stderr
        got = pq.read_table(out)
        assert got.column("prediction").to_pylist() == model.predict(frame).tolist()
        if isinstance(final, skl.LogisticRegression):
            assert got.column_names == ["prediction", "proba_older", "proba_younger"]
            np.testing.assert_array_equal(
                np.column_stack([got.column(n).to_numpy() for n in got.column_names[1:]]),
                model.predict_proba(pd.DataFrame(frame)),
            )
        else:
            assert got.column_names == ["prediction"]


def test_transform_refuses_bad_input_with_exit_2(tmp_path, drift_fitted, adult):
    import pyarrow.parquet as pq

    path = drift_fitted.save(tmp_path / "adult.fpa")
    pq.write_table(adult.drop_columns(["age"]), tmp_path / "lacking.parquet")
    lacking = _cli("transform", path, tmp_path / "lacking.parquet", tmp_path / "o.parquet")
    assert lacking.returncode == 2 and "age" in lacking.stderr
    wrong = _cli("transform", path, tmp_path / "lacking.txt", tmp_path / "o.parquet")
    assert wrong.returncode == 2 and "must be .csv, .parquet" in wrong.stderr
    out = _cli("transform", path, tmp_path / "lacking.parquet", tmp_path / "o.json")
    assert out.returncode == 2 and "must be .parquet or .csv" in out.stderr


def test_drift_thresholds_and_summary(tmp_path, drift_fitted, drift_adult):
    import pyarrow.parquet as pq

    path = drift_fitted.save(tmp_path / "adult.fpa")
    shifted = replace_column(drift_adult[1], "age", pc.add(drift_adult[1].column("age"), 10))
    pq.write_table(shifted, tmp_path / "shifted.parquet")
    run = _cli("drift", path, tmp_path / "shifted.parquet")
    assert run.returncode == 1
    assert run.stdout.splitlines()[-1].startswith("1 of 14 columns drifted (")
    assert run.stdout.splitlines()[-1].endswith("rows): age")
    assert "-0.000" not in run.stdout
    lenient = _cli(
        "drift", path, tmp_path / "shifted.parquet", "--threshold", "psi=10",
        "--threshold", "js=1", "--threshold", "ks=1",
    )  # fmt: skip
    assert lenient.returncode == 0, lenient.stdout
    assert lenient.stdout.splitlines()[-1].startswith("no column drifted (14 columns, ")
    bad = _cli("drift", path, tmp_path / "shifted.parquet", "--threshold", "nope=1")
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr


def test_inspect_aligns_long_metadata_keys(tmp_path):
    path = (
        fp.StandardScaler()
        .fit(np.eye(3))
        .save(tmp_path / "s.fpa", metadata={"a": "1", "a_very_long_metadata_key": "2"})
    )
    lines = [line for line in _inspect(path).stdout.splitlines() if "metadata" in line]
    assert len({line.rindex(" ") for line in lines}) == 1, lines


def test_no_negative_zero_in_numbers():
    from fastprep.cli import _number

    assert _number(-0.0004, 7).strip() == "0.000" and _number(-0.0006, 7).strip() == "-0.001"


def test_the_progress_bar_shows_on_a_terminal_only(monkeypatch):
    import io

    from fastprep.cli import _Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = _Progress(total=1000)
    bar.add(250)
    bar.close()
    shown = terminal.getvalue()
    assert "25.0% 250 rows" in shown and "rows/s" in shown and "s left" in shown
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    quiet = _Progress(total=None)
    quiet.add(10)
    quiet.close()
    assert piped.getvalue() == ""
