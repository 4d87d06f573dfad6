"""QuantileTransformer: transform and fit of 1M x 16, fastprep vs scikit-learn vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")

DISTRIBUTIONS = ["uniform", "normal"]


def _numpy_uniform(quantiles, references):
    """A careful NumPy user: one np.interp per column (no tie averaging)."""

    def transform(x):
        out = np.empty_like(x)
        for j in range(x.shape[1]):
            out[:, j] = np.interp(x[:, j], quantiles[:, j], references)
        return out

    return transform


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, table, distribution, impl):
    benchmark.group = f"transform QuantileTransformer({distribution}) {table.dtype}"
    ours = fp.QuantileTransformer(output_distribution=distribution).fit(table)
    if impl in ("rust", "python"):
        run(benchmark, impl, ours.transform, table)
    elif impl == "sklearn":
        theirs = sk.QuantileTransformer(output_distribution=distribution, subsample=None)
        run(benchmark, impl, theirs.fit(table).transform, table)
    elif impl == "numpy":
        if distribution != "uniform":
            pytest.skip("the NumPy peer is uniform only")
        run(benchmark, impl, _numpy_uniform(ours.quantiles_, ours.references_), table)
    else:
        run(benchmark, impl, np.copy, table)


@pytest.mark.parametrize("impl", ("rust", "python", "sklearn"))
def bench_fit(benchmark, table, impl):
    benchmark.group = f"fit QuantileTransformer {table.dtype}"
    if impl == "sklearn":
        make = lambda x: sk.QuantileTransformer(subsample=None).fit(x)  # noqa: E731
    else:
        make = lambda x: fp.QuantileTransformer().fit(x)  # noqa: E731
    run(benchmark, impl, make, table)
