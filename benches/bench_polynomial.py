"""PolynomialFeatures: transform of 1M x 4 (degree 2: 15 columns out; degree 3: 35),
fastprep vs scikit-learn vs the NumPy products written out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import fastprep as fp

from .conftest import IMPLS, run

sk = pytest.importorskip("sklearn.preprocessing")


def _numpy(x: np.ndarray, degree: int) -> np.ndarray:
    """Each product column by column, as a careful NumPy user writes it."""
    columns = [np.ones(len(x), dtype=x.dtype)]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(x.shape[1]), d):
            columns.append(np.prod(x[:, combo], axis=1))
    return np.column_stack(columns)


@pytest.fixture(scope="module")
def narrow(table):
    return np.ascontiguousarray(table[:, :4])


@pytest.mark.parametrize("degree", [2, 3])
@pytest.mark.parametrize("impl", (*IMPLS, "copy"))
def bench_transform(benchmark, narrow, impl, degree):
    benchmark.group = f"transform PolynomialFeatures({degree}) {narrow.dtype}"
    if impl in ("rust", "python"):
        run(benchmark, impl, fp.PolynomialFeatures(degree).fit(narrow).transform, narrow)
    elif impl == "sklearn":
        run(benchmark, impl, sk.PolynomialFeatures(degree).fit(narrow).transform, narrow)
    elif impl == "numpy":
        run(benchmark, impl, _numpy, narrow, degree)
    else:  # the output's size, copied: the memory floor
        width = fp.PolynomialFeatures(degree).fit(narrow).n_output_features_
        run(benchmark, impl, np.copy, np.ones((len(narrow), width), dtype=narrow.dtype))
