"""SimpleImputer: transform and fit of 1M x 16 with 5% NaN, fastprep vs scikit-learn vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.impute")

STRATEGIES = ["mean", "median"]


def _numpy_fill(statistics):
    def transform(x):
        return np.where(np.isnan(x), statistics.astype(x.dtype), x)

    return transform


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table_with_nan, strategy, impl):
    x = table_with_nan
    benchmark.group = f"transform SimpleImputer({strategy}) {x.dtype}"
    ours = fp.SimpleImputer(strategy=strategy).fit(x)
    if impl in ("rust", "python"):
        run(benchmark, impl, ours.transform, x)
    elif impl == "sklearn":
        run(benchmark, impl, sk.SimpleImputer(strategy=strategy).fit(x).transform, x)
    elif impl == "numpy":
        run(benchmark, impl, _numpy_fill(ours.statistics_), x)
    else:
        run(benchmark, impl, np.copy, x)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("impl", ("rust", "python", "sklearn"))
def bench_fit(benchmark, table_with_nan, strategy, impl):
    x = table_with_nan
    benchmark.group = f"fit SimpleImputer({strategy}) {x.dtype}"
    if impl == "sklearn":
        run(benchmark, impl, lambda a: sk.SimpleImputer(strategy=strategy).fit(a), x)
    else:
        run(benchmark, impl, lambda a: fp.SimpleImputer(strategy=strategy).fit(a), x)
