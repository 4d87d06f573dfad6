"""Benchmark fixtures. Run with ``make bench`` (release build, full size) or ``make bench-quick``
(tiny data, each benchmark once, for CI: they must not rot).

FASTPREP_BENCH_ROWS sets the number of rows (default 1,000,000); every table is 16 columns.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import fastprep as fp
from fastprep._backend import _core

ROWS = int(os.environ.get("FASTPREP_BENCH_ROWS", "1000000"))
COLS = 16
IMPLS = ("rust", "python", "sklearn", "numpy")


def pytest_configure(config):
    if _core is not None and getattr(_core, "DEBUG_BUILD", False):
        warnings.warn("benchmarking a debug build of fastprep._core", stacklevel=1)


@pytest.fixture(scope="session", params=["float64", "float32"])
def table(request):
    """ROWS x 16 of normal data with mixed scales, no NaN."""
    rng = np.random.default_rng(42)
    x = rng.normal(size=(ROWS, COLS)) * np.logspace(-2, 4, COLS) + np.linspace(-50, 50, COLS)
    return x.astype(request.param)


@pytest.fixture(scope="session", params=["float64", "float32"])
def table_with_nan(request):
    """The same table with 5% of cells missing (NaN)."""
    rng = np.random.default_rng(43)
    x = rng.normal(size=(ROWS, COLS)) * np.logspace(-2, 4, COLS)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x.astype(request.param)


def run(benchmark, impl: str, fn, *args):
    """Benchmark ``fn(*args)`` with the fastprep backend ``impl`` in effect (if it is one)."""
    if impl == "rust" and _core is None:
        pytest.skip("fastprep._core is not built")
    if impl in ("rust", "python"):
        with fp.use_backend(impl):
            return benchmark(fn, *args)
    return benchmark(fn, *args)
