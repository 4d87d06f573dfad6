"""Fingerprints: a digest of the canonical fitted state, equal for equal states."""

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, load_adult
from fastprep.testing import available_backends


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    return pa.table({c: table[c] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})


def _numeric(adult):
    return np.column_stack([adult.column(c).to_numpy() for c in ADULT_NUMERIC]).astype(float)


MAKERS = [
    lambda: fp.StandardScaler(),
    lambda: fp.MinMaxScaler(),
    lambda: fp.MaxAbsScaler(),
    lambda: fp.RobustScaler(),
    lambda: fp.Normalizer(),
    lambda: fp.Binarizer(),
    lambda: fp.FunctionTransformer(np.log1p),
    lambda: fp.PolynomialFeatures(3, interaction_only=True),
    lambda: fp.SplineTransformer(knots="quantile"),
    lambda: fp.SimpleImputer(strategy="median", add_indicator=True),
    lambda: fp.KBinsDiscretizer(n_bins=3),
    lambda: fp.QuantileTransformer(n_quantiles=50),
    lambda: fp.PowerTransformer(),
]


@pytest.mark.filterwarnings("ignore:.*bins narrower")
@pytest.mark.parametrize("make", MAKERS)
def test_equal_fits_equal_fingerprints_different_fits_differ(adult, make, backend):
    x = _numeric(adult)
    a, b = make().fit(x), make().fit(x)
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 64
    other = make().fit(x[: len(x) // 2] * 1.5 + 1)
    # stateless, or fitted to the number of columns only: only parameters
    stateless = (fp.Normalizer, fp.Binarizer, fp.FunctionTransformer, fp.PolynomialFeatures)
    if type(a) not in stateless:
        assert other.fingerprint != a.fingerprint


def test_parameters_columns_and_single_bits_count(adult):
    x = _numeric(adult)
    base = fp.StandardScaler().fit(x)
    assert fp.StandardScaler(with_mean=False).fit(x).fingerprint != base.fingerprint
    named = fp.ColumnTransformer([("s", fp.StandardScaler(), list(ADULT_NUMERIC))]).fit(adult)
    renamed = fp.ColumnTransformer([("t", fp.StandardScaler(), list(ADULT_NUMERIC))]).fit(adult)
    assert named.fingerprint != renamed.fingerprint
    flipped = fp.StandardScaler().fit(x)
    flipped.scale_ = flipped.scale_.copy()
    flipped.scale_[0] = np.nextafter(flipped.scale_[0], np.inf)
    assert flipped.fingerprint != base.fingerprint
    assert fp.FeatureHasher(8).fingerprint != fp.FeatureHasher(16).fingerprint


def _pipeline():
    numeric = fp.Pipeline(
        [("impute", fp.SimpleImputer(strategy="median")), ("scale", fp.StandardScaler())]
    )
    categorical = fp.Pipeline(
        [
            ("impute", fp.SimpleImputer(strategy="most_frequent")),
            ("onehot", fp.OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    return fp.ColumnTransformer(
        [("num", numeric, list(ADULT_NUMERIC)), ("cat", categorical, list(ADULT_CATEGORICAL))]
    )


def test_pipeline_fingerprint_is_the_same_in_another_process(adult):
    here = _pipeline().fit(adult).fingerprint
    code = (
        "import pyarrow as pa, fastprep as fp\n"
        "from fastprep.datasets import load_adult, ADULT_NUMERIC, ADULT_CATEGORICAL\n"
        "import tests.test_state as t\n"
        "d = load_adult()\n"
        "table = pa.table({c: d[c] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})\n"
        f"with fp.use_backend({fp.get_backend()!r}):\n"
        "    print(t._pipeline().fit(table).fingerprint)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(__import__("pathlib").Path(__file__).parent.parent),
    )
    assert out.stdout.strip() == here


def test_exact_states_have_one_fingerprint_on_both_backends(adult):
    """Order-free statistics (categories, counts, min/max, bin edges) are bit-identical across
    backends, and so are their fingerprints."""
    x = _numeric(adult)
    makers = [
        lambda: fp.OneHotEncoder(min_frequency=50),
        lambda: fp.MinMaxScaler(),
        lambda: fp.KBinsDiscretizer(n_bins=4, strategy="quantile"),
    ]
    for make in makers:
        data = adult.select(list(ADULT_CATEGORICAL)) if make().__class__ is fp.OneHotEncoder else x
        prints = set()
        for backend in available_backends():
            with fp.use_backend(backend):
                prints.add(make().fit(data).fingerprint)
        assert len(prints) == 1


def test_not_fitted_has_no_fingerprint(backend):
    with pytest.raises(fp.NotFittedError):
        _ = fp.StandardScaler().fingerprint
    with pytest.raises(fp.NotFittedError):
        _ = fp.OneHotEncoder().fingerprint
    with pytest.raises(fp.NotFittedError):
        _ = _pipeline().fingerprint
