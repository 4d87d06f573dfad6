"""The Adult preprocessing as one ColumnTransformer (numeric: median impute + scale; categorical:
one-hot), on ROWS rows (Adult repeated) and on one request row: fastprep's compiled plan vs
its step-by-step path (reference kernels) vs scikit-learn."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, load_adult

from .conftest import ROWS, run

skc = pytest.importorskip("sklearn.compose")
skp = pytest.importorskip("sklearn.preprocessing")
ski = pytest.importorskip("sklearn.impute")
skpl = pytest.importorskip("sklearn.pipeline")

NUM, CAT = list(ADULT_NUMERIC), list(ADULT_CATEGORICAL)


@pytest.fixture(scope="session")
def adult():
    """(Table of ROWS rows, the same as an object array with NaN for missing, request rows)."""
    table = load_adult()
    base = pa.table({c: table[c] for c in NUM + CAT})
    big = pa.concat_tables([base] * (ROWS // base.num_rows + 1)).slice(0, ROWS)
    objects = np.empty((big.num_rows, len(NUM) + len(CAT)), dtype=object)
    for j, c in enumerate(NUM + CAT):
        objects[:, j] = big.column(c).to_numpy(zero_copy_only=False)
    objects = np.where(objects == None, np.nan, objects)  # noqa: E711
    return big, objects, base.slice(0, 200).to_pylist()


def _ours(table):
    numeric = fp.Pipeline(
        [("impute", fp.SimpleImputer(strategy="median")), ("scale", fp.StandardScaler())]
    )
    return fp.ColumnTransformer(
        [
            ("num", numeric, NUM),
            ("cat", fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), CAT),
        ]
    ).fit(table)


def _theirs(objects):
    numeric = skpl.Pipeline(
        [("impute", ski.SimpleImputer(strategy="median")), ("scale", skp.StandardScaler())]
    )
    n = len(NUM)
    return skc.ColumnTransformer(
        [
            ("num", numeric, list(range(n))),
            (
                "cat",
                skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(range(n, n + len(CAT))),
            ),
        ]
    ).fit(objects)


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn"])
def bench_batch(benchmark, adult, impl):
    table, objects, _ = adult
    benchmark.group = "transform Adult ColumnTransformer, batch"
    if impl == "sklearn":
        run(benchmark, impl, _theirs(objects).transform, objects)
    else:
        run(benchmark, impl, _ours(table).transform, table)


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn"])
def bench_one_row(benchmark, adult, impl):
    """One request row: fastprep's transform_one on a dict of Python values; scikit-learn's
    transform on a one-row object array."""
    table, objects, rows = adult
    benchmark.group = "transform Adult ColumnTransformer, one row"
    if impl == "sklearn":
        run(benchmark, impl, _theirs(objects).transform, objects[:1])
    else:
        run(benchmark, impl, _ours(table).transform_one, rows[0])
