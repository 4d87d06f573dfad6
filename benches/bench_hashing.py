"""FeatureHasher on ROWS x 4 string columns: fastprep reading the pyarrow Table (and the same
rows as Python lists, scikit-learn's input) vs its reference vs scikit-learn."""

from __future__ import annotations

import pytest

import fastprep as fp

from .bench_encode import strings  # noqa: F401  (the shared session fixture)
from .conftest import ROWS, run

fe = pytest.importorskip("sklearn.feature_extraction")

N_FEATURES = 2**20


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn", "rust-lists"])
def bench_hash(benchmark, strings, impl):  # noqa: F811
    table, objects, _ = strings
    benchmark.group = "transform FeatureHasher(string)"
    rows = objects.tolist()
    if impl == "sklearn":
        hasher = fe.FeatureHasher(N_FEATURES, input_type="string")
        run(benchmark, impl, hasher.transform, rows)
        return
    ours = fp.FeatureHasher(N_FEATURES, input_type="string")
    if impl == "rust-lists":  # scikit-learn's input form: one Python list per row
        run(benchmark, "rust", ours.transform, rows)
    elif impl == "python" and ROWS >= 100_000:
        with fp.use_backend("python"):
            benchmark.pedantic(ours.transform, args=(table,), rounds=1, iterations=1)
    else:
        run(benchmark, impl, ours.transform, table)
