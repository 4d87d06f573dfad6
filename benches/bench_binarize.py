"""Binarizer: transform of 1M x 16, fastprep vs scikit-learn vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")


@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table, impl):
    benchmark.group = f"transform Binarizer {table.dtype}"
    if impl in ("rust", "python"):
        run(benchmark, impl, fp.Binarizer().fit(table).transform, table)
    elif impl == "sklearn":
        run(benchmark, impl, sk.Binarizer().fit(table).transform, table)
    elif impl == "numpy":
        run(benchmark, impl, lambda x: (x > 0).astype(x.dtype), table)
    else:
        run(benchmark, impl, np.copy, table)
