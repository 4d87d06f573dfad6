"""Sparse input: fit and transform of a CSR matrix of ROWS/5 x 1000 at 0.5% density (about
1M stored values), fastprep vs scikit-learn vs a copy of the stored values (the floor)."""

from __future__ import annotations

import pytest

import fastprep as fp

from .conftest import ROWS, run

sk = pytest.importorskip("sklearn.preprocessing")
ski = pytest.importorskip("sklearn.impute")
sparse = pytest.importorskip("scipy.sparse")

CASES = {
    "MaxAbsScaler": (fp.MaxAbsScaler, {}),
    "StandardScaler(with_mean=False)": (fp.StandardScaler, {"with_mean": False}),
    "Normalizer": (fp.Normalizer, {}),
    "RobustScaler(with_centering=False)": (fp.RobustScaler, {"with_centering": False}),
    "QuantileTransformer": (fp.QuantileTransformer, {"n_quantiles": 100}),
    "SimpleImputer(median)": (fp.SimpleImputer, {"strategy": "median"}),
}
#: scikit-learn's QuantileTransformer subsamples 10,000 values per column by default;
#: fastprep's quantiles are exact, so it is given the exact fit too.
PEER_PARAMS = {"QuantileTransformer": {"subsample": None}}
FITS = [
    "MaxAbsScaler",
    "StandardScaler(with_mean=False)",
    "RobustScaler(with_centering=False)",
    "QuantileTransformer",
    "SimpleImputer(median)",
]


def _peer(name):
    cls, params = CASES[name]
    return getattr(sk if hasattr(sk, cls.__name__) else ski, cls.__name__)(
        **params, **PEER_PARAMS.get(name, {})
    )


@pytest.fixture(scope="module")
def csr():
    return sparse.random(max(ROWS // 5, 10), 1000, density=0.005, random_state=0, format="csr")


def _copy(x):
    return type(x)((x.data.copy(), x.indices.copy(), x.indptr.copy()), shape=x.shape)


@pytest.mark.parametrize("impl", ("rust", "python", "sklearn", "copy"))
@pytest.mark.parametrize("name", list(CASES))
def bench_transform(benchmark, csr, name, impl):
    benchmark.group = f"transform sparse {name}"
    cls, params = CASES[name]
    if impl in ("rust", "python"):
        run(benchmark, impl, cls(**params).fit(csr).transform, csr)
    elif impl == "sklearn":
        run(benchmark, impl, _peer(name).fit(csr).transform, csr)
    else:
        run(benchmark, impl, _copy, csr)


@pytest.mark.parametrize("impl", ("rust", "python", "sklearn"))
@pytest.mark.parametrize("name", FITS)
def bench_fit(benchmark, csr, name, impl):
    benchmark.group = f"fit sparse {name}"
    cls, params = CASES[name]
    if impl in ("rust", "python"):
        run(benchmark, impl, cls(**params).fit, csr)
    else:
        run(benchmark, impl, _peer(name).fit, csr)
