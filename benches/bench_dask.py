"""``fastprep.dask``: fit and transform of 10 x FASTPREP_BENCH_ROWS rows (10M by default) in 16
partitions held by a two-worker LocalCluster (one thread each), against one process fitting and
transforming the same rows in memory (on both cores). The pipeline: six numeric columns median
imputed then standardized, one categorical column one-hot encoded."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import ROWS

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
fpd = pytest.importorskip("fastprep.dask")

PARTITIONS = 16
NUM = [f"n{j}" for j in range(6)]


def _partition(seed: int, rows: int):
    """One partition, made on the worker that holds it."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(NUM))) * np.logspace(0, 3, len(NUM)),
                         columns=NUM)  # fmt: skip
    frame.loc[rng.random(rows) < 0.05, "n0"] = np.nan
    frame["city"] = pd.array(rng.choice(["Oslo", "Lima", "Pune", "Kyiv", "Lagos"], rows),
                             dtype="string[pyarrow]")  # fmt: skip
    return frame


def _pipeline():
    numeric = fp.Pipeline([("impute", fp.SimpleImputer(strategy="median")),
                           ("scale", fp.StandardScaler())])  # fmt: skip
    onehot = fp.OneHotEncoder(sparse_output=False)
    return fp.ColumnTransformer([("num", numeric, NUM), ("cat", onehot, ["city"])])


@pytest.fixture(scope="module")
def cluster_data():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    rows = max(10 * ROWS // PARTITIONS, 100)
    ddf = dd.from_map(_partition, range(PARTITIONS), rows=rows).persist()
    distributed.wait(ddf)
    frame = ddf.compute()
    yield ddf, frame
    client.close()
    cluster.close()


@pytest.mark.parametrize("where", ["cluster", "one process"])
def bench_fit(benchmark, cluster_data, where):
    ddf, frame = cluster_data
    benchmark.group = f"dask: fit of {len(frame):,} rows in {PARTITIONS} partitions"
    if where == "cluster":
        fitted = benchmark.pedantic(lambda: fpd.fit(_pipeline(), ddf), rounds=3, iterations=1)
    else:
        fitted = benchmark.pedantic(lambda: _pipeline().fit(frame), rounds=3, iterations=1)
    benchmark.extra_info["fingerprint"] = fitted.fingerprint


@pytest.mark.parametrize("where", ["cluster", "one process"])
def bench_transform(benchmark, cluster_data, where):
    ddf, frame = cluster_data
    fitted = _pipeline().fit(frame)
    benchmark.group = f"dask: transform of {len(frame):,} rows in {PARTITIONS} partitions"
    if where == "cluster":
        # The features are made and kept on the workers; one number per partition comes back.
        # Each round reads the data under new keys, so that no result of the last is reused.
        rounds = iter(range(1000))

        def on_cluster():
            fresh = ddf.map_partitions(_same, meta=ddf._meta, token=f"round-{next(rounds)}")
            out = fpd.transform(fitted, fresh).map_partitions(_total, meta=(None, "f8"))
            return float(out.compute().sum())

        total = benchmark.pedantic(on_cluster, rounds=3, iterations=1)
    else:
        total = benchmark.pedantic(
            lambda: float(_total(pd.DataFrame(fitted.transform(frame))).sum()),
            rounds=3,
            iterations=1,
        )
    assert np.isclose(total, float(fitted.transform(frame[:0]).sum()) + total)


def _same(frame):
    return frame


def _total(features):
    """One number from all of a partition's features (so that they are computed)."""
    return pd.Series([float(np.nansum(features.to_numpy()))])
