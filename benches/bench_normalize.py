"""Normalizer: transform of 1M x 16, fastprep vs scikit-learn vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")


def _numpy_l2(x):
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms == 0] = 1
    return x / norms[:, np.newaxis]


@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table, impl):
    benchmark.group = f"transform Normalizer {table.dtype}"
    if impl in ("rust", "python"):
        run(benchmark, impl, fp.Normalizer().fit(table).transform, table)
    elif impl == "sklearn":
        run(benchmark, impl, sk.Normalizer().fit(table).transform, table)
    elif impl == "numpy":
        run(benchmark, impl, _numpy_l2, table)
    else:
        run(benchmark, impl, np.copy, table)
