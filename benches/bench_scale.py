"""Scalers: transform and fit of 1M x 16, fastprep (rust, python) vs scikit-learn vs a careful
NumPy expression; ``copy`` is a plain array copy, the memory-bandwidth floor."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")

SCALERS = ["StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler"]


def _numpy_transform(name: str, fitted):
    """What a careful NumPy user writes: one output buffer, in-place ufuncs."""
    if name == "StandardScaler":
        a, b = fitted.mean_, fitted.scale_
    elif name == "RobustScaler":
        a, b = fitted.center_, fitted.scale_
    elif name == "MaxAbsScaler":
        a, b = np.zeros_like(fitted.scale_), fitted.scale_
    else:
        a, b = -fitted.min_ / fitted.scale_, 1.0 / fitted.scale_  # (x - a) / b == x*s + m

    def transform(x):
        out = np.subtract(x, a.astype(x.dtype), dtype=x.dtype)
        np.divide(out, b.astype(x.dtype), out=out)
        return out

    return transform


@pytest.mark.parametrize("name", SCALERS)
@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table, name, impl):
    benchmark.group = f"transform {name} {table.dtype}"
    ours = getattr(fp, name)().fit(table)
    if impl in ("rust", "python"):
        run(benchmark, impl, ours.transform, table)
    elif impl == "sklearn":
        theirs = getattr(sk, name)().fit(table)
        run(benchmark, impl, theirs.transform, table)
    elif impl == "numpy":
        run(benchmark, impl, _numpy_transform(name, ours), table)
    else:
        run(benchmark, impl, np.copy, table)


@pytest.mark.parametrize("name", SCALERS)
@pytest.mark.parametrize("impl", ("rust", "python", "sklearn"))
def bench_fit(benchmark, table, name, impl):
    benchmark.group = f"fit {name} {table.dtype}"
    if impl == "sklearn":
        run(benchmark, impl, lambda x: getattr(sk, name)().fit(x), table)
    else:
        run(benchmark, impl, lambda x: getattr(fp, name)().fit(x), table)
