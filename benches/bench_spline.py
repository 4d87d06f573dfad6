"""SplineTransformer: transform of 1M x 4 (5 knots, degree 3: 7 columns out per column),
fastprep vs scikit-learn (SciPy's BSpline per column)."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")


@pytest.fixture(scope="module")
def narrow(table):
    return np.ascontiguousarray(table[:, :4])


@pytest.mark.parametrize("extrapolation", ["constant", "periodic"])
@pytest.mark.parametrize("impl", (*(i for i in IMPLS if i != "numpy"), "copy"))
def bench_transform(benchmark, narrow, impl, extrapolation):
    benchmark.group = f"transform SplineTransformer({extrapolation}) {narrow.dtype}"
    train = narrow[: len(narrow) // 2]  # the rest reaches beyond the fitted range too
    if impl in ("rust", "python"):
        fitted = fp.SplineTransformer(extrapolation=extrapolation).fit(train)
        run(benchmark, impl, fitted.transform, narrow)
    elif impl == "sklearn":
        theirs = sk.SplineTransformer(extrapolation=extrapolation).fit(train)
        run(benchmark, impl, theirs.transform, narrow)
    else:  # the output's size, copied: the memory floor
        run(benchmark, impl, np.copy, np.ones((len(narrow), 28), dtype=narrow.dtype))
