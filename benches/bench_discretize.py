"""KBinsDiscretizer: transform and fit of 1M x 16, fastprep vs scikit-learn vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")

ENCODINGS = ["ordinal", "onehot-dense"]


def _numpy_ordinal(edges):
    inner = [e[1:-1] for e in edges]

    def transform(x):
        out = np.empty_like(x)
        for j, e in enumerate(inner):
            out[:, j] = np.searchsorted(e, x[:, j], side="right")
        return out

    return transform


@pytest.mark.parametrize("encode", ENCODINGS)
@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table, encode, impl):
    benchmark.group = f"transform KBinsDiscretizer({encode}) {table.dtype}"
    ours = fp.KBinsDiscretizer(encode=encode).fit(table)
    if impl in ("rust", "python"):
        run(benchmark, impl, ours.transform, table)
    elif impl == "sklearn":
        theirs = sk.KBinsDiscretizer(encode=encode, subsample=None).fit(table)
        run(benchmark, impl, theirs.transform, table)
    elif impl == "numpy":
        if encode != "ordinal":
            pytest.skip("the NumPy peer is ordinal only")
        run(benchmark, impl, _numpy_ordinal(ours.bin_edges_), table)
    else:
        run(benchmark, impl, np.copy, table)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("impl", ("rust", "python", "sklearn"))
def bench_fit(benchmark, table, strategy, impl):
    benchmark.group = f"fit KBinsDiscretizer({strategy}) {table.dtype}"
    if impl == "sklearn":
        make = lambda x: sk.KBinsDiscretizer(strategy=strategy, subsample=None).fit(x)  # noqa: E731
    else:
        make = lambda x: fp.KBinsDiscretizer(strategy=strategy).fit(x)  # noqa: E731
    run(benchmark, impl, make, table)
