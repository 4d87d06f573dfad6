"""PowerTransformer: transform and fit, fastprep vs scikit-learn vs NumPy.

Fitting optimises one lambda per column over every value (15 to 30 likelihood evaluations of
the whole column each); the fit bench uses all FASTPREP_BENCH_ROWS rows, as the others do.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")


def _numpy_yeo_johnson(lambdas):
    """A careful NumPy user: scipy's formula for non-negative data, one column at a time."""

    def transform(x):
        out = np.empty_like(x)
        for j, lmbda in enumerate(lambdas):
            out[:, j] = np.expm1(lmbda * np.log1p(x[:, j])) / lmbda
        return out

    return transform


@pytest.fixture(scope="module")
def positive(table):
    return np.abs(table) + 1.0


@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, positive, impl):
    x = positive
    benchmark.group = f"transform PowerTransformer {x.dtype}"
    ours = fp.PowerTransformer(standardize=False).fit(x[:10_000])
    if impl in ("rust", "python"):
        run(benchmark, impl, ours.transform, x)
    elif impl == "sklearn":
        theirs = sk.PowerTransformer(standardize=False).fit(x[:10_000])
        run(benchmark, impl, theirs.transform, x)
    elif impl == "numpy":
        run(benchmark, impl, _numpy_yeo_johnson(ours.lambdas_), x)
    else:
        run(benchmark, impl, np.copy, x)


@pytest.mark.parametrize("impl", ("rust", "python", "sklearn"))
def bench_fit(benchmark, positive, impl):
    x = positive
    benchmark.group = f"fit PowerTransformer {x.dtype}"
    if impl == "sklearn":
        make = lambda a: sk.PowerTransformer().fit(a)  # noqa: E731
    else:
        make = lambda a: fp.PowerTransformer().fit(a)  # noqa: E731
    run(benchmark, impl, make, x)
