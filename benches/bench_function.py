"""FunctionTransformer: transform of 1M x 16 with a named function, fastprep vs scikit-learn
(which calls NumPy's function) vs the NumPy call itself."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")

#: Each function on data in its domain (log1p and sqrt of the table's absolute values, exp of
#: the table clipped to [-20, 20]).
FUNCTIONS = {
    "log1p": (np.log1p, None),
    "exp": (np.exp, None),
    "sqrt": (np.sqrt, None),
    "clip": (np.clip, {"a_min": -1.0, "a_max": 1.0}),
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table, impl, name):
    func, kw = FUNCTIONS[name]
    if name == "exp":  # exp of values in [-20, 20]: neither over- nor underflowing
        table = np.clip(table, -20, 20)
    elif name != "clip":
        table = np.abs(table)
    benchmark.group = f"transform FunctionTransformer({name}) {table.dtype}"
    if impl in ("rust", "python"):
        run(benchmark, impl, fp.FunctionTransformer(func, kw_args=kw).fit(table).transform, table)
    elif impl == "sklearn":
        run(benchmark, impl, sk.FunctionTransformer(func, kw_args=kw).fit(table).transform, table)
    elif impl == "numpy":
        run(benchmark, impl, lambda x: func(x, **(kw or {})), table)
    else:
        run(benchmark, impl, np.copy, table)
