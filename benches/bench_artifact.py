"""Loading saved preprocessing, as a service does at start-up: fastprep.load of an artifact
(rust: digest and lookup tables in Rust; python: the NumPy reference reader) vs pickle.loads of
the equivalent fitted scikit-learn object (the peer: what services load today).

Two cases: a OneHotEncoder with BIG categories (1M at full size), and the Adult
ColumnTransformer (median impute + scale, most-frequent impute + one-hot)."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult

from .conftest import ROWS, run

skp = pytest.importorskip("sklearn.preprocessing")
skc = pytest.importorskip("sklearn.compose")
ski = pytest.importorskip("sklearn.impute")
skpl = pytest.importorskip("sklearn.pipeline")

#: Categories of the big encoder (smaller in quick mode).
BIG = 1_000_000 if ROWS >= 1_000_000 else 20_000
NUM, CAT = list(ADULT_NUMERIC), list(ADULT_CATEGORICAL)


@pytest.fixture(scope="session")
def big_encoder(tmp_path_factory):
    """(artifact path, pickled scikit-learn encoder) of BIG distinct categories."""
    values = np.array([f"category-{i:07d}" for i in range(BIG)], dtype=object)
    path = tmp_path_factory.mktemp("artifacts") / "big.fpa"
    fp.OneHotEncoder(handle_unknown="ignore").fit({"c": pa.array(values)}).save(path)
    theirs = skp.OneHotEncoder(handle_unknown="ignore").fit(values.reshape(-1, 1))
    return path, pickle.dumps(theirs, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.fixture(scope="session")
def adult_artifact(tmp_path_factory):
    table = load_adult()
    arrow = pa.table({c: table[c] for c in NUM + CAT})
    path = tmp_path_factory.mktemp("artifacts") / "adult.fpa"
    adult_pipeline().fit(arrow).save(path)
    objects = np.empty((arrow.num_rows, len(NUM) + len(CAT)), dtype=object)
    for j, c in enumerate(NUM + CAT):
        objects[:, j] = arrow.column(c).to_numpy(zero_copy_only=False)
    objects = np.where(objects == None, np.nan, objects)  # noqa: E711
    n = len(NUM)
    numeric = skpl.Pipeline(
        [("impute", ski.SimpleImputer(strategy="median")), ("scale", skp.StandardScaler())]
    )
    categorical = skpl.Pipeline(
        [
            ("impute", ski.SimpleImputer(strategy="most_frequent")),
            ("onehot", skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    theirs = skc.ColumnTransformer(
        [("num", numeric, list(range(n))), ("cat", categorical, list(range(n, n + len(CAT))))]
    ).fit(objects)
    return path, pickle.dumps(theirs, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn"])
def bench_load_big_encoder(benchmark, big_encoder, impl):
    path, pickled = big_encoder
    benchmark.group = f"load OneHotEncoder of {BIG:,} categories (sklearn: pickle.loads)"
    if impl == "sklearn":
        run(benchmark, impl, pickle.loads, pickled)
    else:
        run(benchmark, impl, fp.load, path)


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn"])
def bench_load_adult_pipeline(benchmark, adult_artifact, impl):
    path, pickled = adult_artifact
    benchmark.group = "load Adult ColumnTransformer (sklearn: pickle.loads)"
    if impl == "sklearn":
        run(benchmark, impl, pickle.loads, pickled)
    else:
        run(benchmark, impl, fp.load, path)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_load_adult_pipeline_and_answer_a_request(benchmark, adult_artifact, impl):
    """A load is followed by the first request, which compiles the plan (a load compiles
    nothing its bytes do not back): the two together are what a starting service pays."""
    path, _ = adult_artifact
    row = {c: load_adult()[c][0] for c in NUM + CAT}
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    benchmark.group = "load Adult ColumnTransformer, then transform_one"
    run(benchmark, impl, lambda: fp.load(path).transform_one(row))
