"""Drift: the training profile, the monitor's statistics (against scipy and NumPy references),
flags on the Adult data, merging, the per-row path, bad input, artifacts and the CLI."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline
from fastprep.drift import DriftMonitor, js_distance, ks_binned, psi
from fastprep.testing import assert_backends_agree

from .helpers import Optional, adult_halves, replace_column

stats = Optional("scipy.stats")


@pytest.fixture(scope="module")
def adult():
    return adult_halves()


@pytest.fixture(scope="module")
def fitted(adult):
    return adult_pipeline().fit(adult[0])


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=60),
    st.lists(st.floats(-1e6, 1e6), max_size=8, unique=True),
)
def test_bin_counts_agree_across_backends(values, edges):
    v = np.asarray(values, dtype=np.float64)
    e = np.sort(np.asarray(edges, dtype=np.float64))
    counts, missing = assert_backends_agree(fp._backend.kernels().bin_counts, v, e)
    assert counts.sum() + missing == v.size
    # the bin rule, spelled out: bin i holds e[i-1] < v <= e[i]
    for x in v[~np.isnan(v)]:
        assert counts[int(np.sum(e < x))] > 0


def _psi_reference(p_counts, q_counts, floor=1e-4):
    p = np.maximum(p_counts / p_counts.sum(), floor)
    q = np.maximum(q_counts / q_counts.sum(), floor)
    return float(np.sum((q - p) * np.log(q / p)))


def test_psi_and_js_equal_references_on_the_same_bins(backend):
    from scipy.spatial.distance import jensenshannon

    rng = np.random.default_rng(1)
    for _ in range(20):
        p, q = rng.integers(0, 50, 12), rng.integers(0, 50, 12)
        p[0] += 1
        q[0] += 1
        assert psi(p, q) == pytest.approx(_psi_reference(p, q), rel=1e-12)
        assert js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)
        assert ks_binned(p, q) == pytest.approx(
            np.max(np.abs(np.cumsum(p / p.sum()) - np.cumsum(q / q.sum()))), abs=1e-15
        )


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5, 1.0])
def test_ks_agrees_with_scipy_within_a_bins_mass(shift, backend):
    rng = np.random.default_rng(2)
    train = rng.normal(size=20_000)
    live = rng.normal(loc=shift, size=5_000)
    pipe = fp.Pipeline([("s", fp.StandardScaler())]).fit({"x": train})
    report = DriftMonitor(pipe).update({"x": live}).report()["x"]
    exact = stats.ks_2samp(train, live).statistic
    # the binned statistic is the exact one at the edges: it misses at most a fine bin's
    # mass (1% of the training rows) plus the live mass in it
    assert report["ks"] <= exact + 1e-12
    assert report["ks"] >= exact - 0.02


def test_the_training_distribution_is_not_flagged(fitted, adult, backend):
    report = DriftMonitor(fitted).update(adult[1]).report()
    assert not [n for n, r in report.items() if r["drifted"]]
    assert all(r["rows"] == adult[1].num_rows for r in report.values())
    assert report["age"]["psi"] < 0.02 and report["workclass"]["unseen"] == 0.0


def test_a_shifted_column_is_flagged_alone(fitted, adult, backend):
    live = replace_column(adult[1], "age", pc.add(adult[1].column("age"), 10))
    assert DriftMonitor(fitted).update(live).drifted == ["age"]


def test_a_category_added_or_removed_is_flagged_alone(fitted, adult, backend):
    live = adult[1]
    work = live.column("workclass")
    added = pc.if_else(pc.equal(work, "Private"), "Gig-economy", work)
    report = DriftMonitor(fitted).update(replace_column(live, "workclass", added)).report()
    assert [n for n, r in report.items() if r["drifted"]] == ["workclass"]
    assert report["workclass"]["unseen"] > 0.5
    race = live.column("race")
    removed = pc.if_else(pc.equal(race, "White"), "Other", race)
    monitor = DriftMonitor(fitted).update(replace_column(live, "race", removed))
    assert monitor.drifted == ["race"]


def test_merging_equals_one_monitor_and_order_does_not_matter(fitted, adult, backend):
    live = adult[1]
    whole = DriftMonitor(fitted).update(live).report()
    a = DriftMonitor(fitted).update(live.slice(0, 5000))
    b = DriftMonitor(fitted).update(live.slice(5000))
    assert b.merge(a).report() == whole
    shuffled = live.take(np.random.default_rng(3).permutation(live.num_rows))
    assert DriftMonitor(fitted).update(shuffled).report() == whole
    assert DriftMonitor(fitted).update(live).reset().report()["age"]["rows"] == 0


def test_the_row_path_equals_the_batch_path(fitted, adult, backend):
    rows = adult[1].slice(0, 300)
    one = DriftMonitor(fitted)
    for row in rows.to_pylist():
        one.update_row(row)
    assert one.report() == DriftMonitor(fitted).update(rows).report()


def test_the_row_path_counts_every_missing_value_as_missing(fitted, adult, backend):
    row = adult[1].slice(0, 1).to_pylist()[0]
    monitor = DriftMonitor(fitted)
    for age in (None, float("nan"), np.float64("nan"), np.float32("nan")):
        monitor.update_row({**row, "age": age, "workclass": None})
    monitor.update_row({**row, "age": np.int64(40), "workclass": float("nan")})
    report = monitor.report()
    assert report["age"]["rows"] == 5
    assert report["age"]["missing_live"] == pytest.approx(4 / 5)
    assert report["workclass"]["missing_live"] == 1.0


def test_transform_feeds_an_attached_monitor(fitted, adult, backend):
    monitor = DriftMonitor(fitted).attach()
    try:
        batch = adult[1].slice(0, 1000)
        fitted.transform(batch)
        fitted.transform_one(adult[1].slice(1000, 1).to_pylist()[0])
        assert monitor.report()["age"]["rows"] == 1001
        expected = DriftMonitor(fitted).update(adult[1].slice(0, 1001)).report()
        assert monitor.report() == expected
    finally:
        monitor.detach()
    fitted.transform(batch)
    assert monitor.report()["age"]["rows"] == 1001


def test_an_attached_monitor_counts_what_a_second_pass_counts(fitted, adult, backend):
    # About 16,000 rows: the plan runs in parallel blocks, whose code tallies are merged.
    monitor = DriftMonitor(fitted).attach()
    try:
        fitted.transform(adult[1])
    finally:
        monitor.detach()
    assert monitor.report() == DriftMonitor(fitted).update(adult[1]).report()


def test_an_encoder_of_other_categories_is_counted_by_the_monitor_itself(adult, backend):
    # The encoder knows only two workclasses, the reference every one seen: the plan's codes
    # are not the monitor's positions, so the monitor looks the column up itself.
    ct = fp.ColumnTransformer(
        [
            ("num", fp.StandardScaler(), ["age"]),
            (
                "cat",
                fp.OneHotEncoder(categories=[["Private", "State-gov"]], handle_unknown="ignore"),
                ["workclass"],
            ),
        ]
    ).fit(adult[0])
    monitor = DriftMonitor(ct).attach()
    try:
        ct.transform(adult[1])
    finally:
        monitor.detach()
    expected = DriftMonitor(ct).update(adult[1]).report()
    assert monitor.report() == expected
    assert expected["workclass"]["rows"] == adult[1].num_rows


def test_bad_input_changes_nothing(fitted, adult, backend):
    monitor = DriftMonitor(fitted).update(adult[1].slice(0, 100))
    before = monitor.report()
    with pytest.raises(fp.SchemaError, match="lacks the column"):
        monitor.update(adult[1].drop_columns(["age"]))
    with pytest.raises(fp.SchemaError):
        monitor.update(replace_column(adult[1], "age", pa.array(["x"] * adult[1].num_rows)))
    row = adult[1].slice(0, 1).to_pylist()[0]
    with pytest.raises(fp.SchemaError, match="not a number"):
        monitor.update_row({**row, "age": "old"})
    with pytest.raises(fp.SchemaError, match="not a number"):  # after five good columns
        monitor.update_row({**row, "hours_per_week": "full time"})
    with pytest.raises(fp.SchemaError, match="lacks the column"):
        monitor.update_row({k: v for k, v in row.items() if k != "native_country"})
    with pytest.raises(fp.SchemaError, match="unhashable"):  # a value no category can be
        monitor.update_row({**row, "native_country": ["a", "list"]})
    assert monitor.report() == before
    monitor.update(adult[1].slice(100, 100))  # still usable
    assert monitor.report()["age"]["rows"] == 200
    with pytest.raises(fp.ParameterError, match="unknown thresholds"):
        DriftMonitor(fitted, thresholds={"p_value": 0.05})
    with pytest.raises(fp.ParameterError, match="Pipeline or ColumnTransformer fitted by fastprep"):
        DriftMonitor(fp.StandardScaler().fit([[1.0]]))


def test_partial_fit_builds_the_same_profile(adult, backend):
    train = adult[0]
    whole = adult_pipeline().fit(train).drift_reference_.columns
    parts = adult_pipeline()
    for start in range(0, train.num_rows, 4000):
        parts.partial_fit(train.slice(start, 4000))
    for name, ref in parts.drift_reference_.columns.items():
        assert np.array_equal(ref.counts, whole[name].counts), name
        assert ref.missing == whole[name].missing and ref.rows == whole[name].rows
        if ref.type == "numeric":
            assert np.array_equal(ref.edges, whole[name].edges)


def test_thresholds_and_the_table(fitted, adult, backend):
    live = replace_column(adult[1], "age", pc.add(adult[1].column("age"), 1))
    loose = DriftMonitor(fitted).update(live)
    strict = DriftMonitor(fitted, thresholds={"psi": 0.001, "ks": 0.01}).update(live)
    assert loose.drifted == [] and "age" in strict.drifted
    few = DriftMonitor(fitted, thresholds={"min_rows": 10**9}).update(live)
    assert few.drifted == []
    table = strict.report_table()
    assert isinstance(table, pa.Table) and table.num_rows == len(ADULT_NUMERIC + ADULT_CATEGORICAL)
    assert set(table.column_names) >= {"column", "psi", "js", "ks", "drifted"}
    ks = dict(zip(table.column("column").to_pylist(), table.column("ks").to_pylist(), strict=True))
    assert ks["workclass"] is None or math.isnan(ks["workclass"])


def test_saved_with_the_artifact(tmp_path, fitted, adult, backend):
    path = fitted.save(tmp_path / "adult.fpa")
    info = fp.inspect(path)
    assert [d["name"] for d in info["drift"]] == list(ADULT_NUMERIC + ADULT_CATEGORICAL)
    loaded = fp.load(path)
    live = adult[1]
    assert DriftMonitor(loaded).update(live).report() == DriftMonitor(fitted).update(live).report()


def test_a_label_present_at_fit_is_not_profiled_nor_required(backend):
    """A ColumnTransformer profiles the columns its transformers read: a monitor attached to
    one fitted on a table holding the label serves records without it."""
    rng = np.random.default_rng(0)
    data = {
        "a": rng.normal(size=200),
        "city": rng.choice(["x", "y"], 200).tolist(),
        "salary": rng.choice([">50K", "<=50K"], 200).tolist(),
    }
    ct = fp.ColumnTransformer(
        [("n", fp.StandardScaler(), ["a"]), ("c", fp.OneHotEncoder(sparse_output=False), ["city"])]
    ).fit(data)
    assert sorted(ct.drift_reference_.columns) == ["a", "city"]
    monitor = fp.DriftMonitor(ct).attach()
    try:
        ct.transform_one({"a": 0.5, "city": "x"})
        ct.transform_records([{"a": 0.5, "city": "y"}])
        ct.transform({"a": [0.1], "city": ["x"]})
    finally:
        monitor.detach()
    assert {r["rows"] for r in monitor.report().values()} == {3}


def test_a_monitor_of_chosen_columns(backend):
    rng = np.random.default_rng(1)
    data = {"a": rng.normal(size=100), "b": rng.normal(size=100)}
    ct = fp.ColumnTransformer([("n", fp.StandardScaler(), ["a", "b"])]).fit(data)
    monitor = fp.DriftMonitor(ct, columns=["b"])
    monitor.update({"a": [1.0], "b": [2.0]})
    assert list(monitor.report()) == ["b"]
    with pytest.raises(fp.ParameterError, match=r"no training profile for the column\(s\) \['c'\]"):
        fp.DriftMonitor(ct, columns=["c"])
