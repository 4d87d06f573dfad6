"""PowerTransformer: kernels vs reference, lambdas vs scikit-learn, Box-Cox refusals, round
trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import fastprep as fp
from fastprep._backend import kernels
from fastprep.reference.power import yeo_johnson as yeo_johnson_reference
from fastprep.testing.strategies import float_matrices

from .helpers import Optional, compare_with_sklearn, magnitude

sklearn_preprocessing = Optional("sklearn.preprocessing")

METHODS = ["yeo-johnson", "box-cox"]
CASES = [(m, s) for m in METHODS for s in (True, False)]

# Lambdas come from an optimiser with tolerance 1.48e-8 (scipy's); two implementations of the
# same likelihood may stop at slightly different points inside that tolerance.
LAMBDA_ATOL = 1e-6


def _positive(x: np.ndarray) -> np.ndarray:
    return np.abs(x) + 0.5


def _moderate(x: np.ndarray) -> np.ndarray:
    # Powers of huge values overflow in every implementation alike; keep the data in range.
    return np.clip(x, -1e6, 1e6)


def _ulp_close(a, b, ulps=64):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= ulps * np.spacing(np.maximum(np.abs(a), np.abs(b)))
    return np.all(same | near)


@pytest.mark.parametrize("method", METHODS)
@given(x=float_matrices(min_rows=1, allow_infinity=False), data=st.data())
def test_transform_kernel_agrees_across_backends(method, x, data):
    """Same lambdas and input: the backends differ only by the C library's exp/log/pow, a few
    ULP per call."""
    x = np.ascontiguousarray(_moderate(x))
    if method == "box-cox":
        x = np.ascontiguousarray(_positive(x))
    cols = x.shape[1]
    lambdas = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=cols, max_size=cols)))
    sub, div = np.zeros(cols), np.ones(cols)
    results = []
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            out = kernels().power_transform(x, lambdas, method, sub, div, False)
            back = kernels().power_transform(out, lambdas, method, sub, div, True)
            results.append((out, back))
    for out, back in results[1:]:
        assert out.dtype == x.dtype
        assert _ulp_close(out, results[0][0])
        # The inverse amplifies those last bits: scikit-learn's exp(y) - 1 cancels for small y.
        tol = 1e-4 if x.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(back, results[0][1], rtol=tol, atol=tol * magnitude(x))


@pytest.mark.parametrize("method", METHODS)
@given(x=float_matrices(min_rows=1, allow_infinity=False, dtypes=(np.float64,), layouts=False))
@example(x=np.array([[431.78125], [431.75]]))  # nearly equal values: see the tolerance
@example(x=np.array([[0.0], [9.22649805e-16]]))  # terms closer together than 1's precision
def test_log_likelihood_agrees_across_backends(method, x):
    values = np.ascontiguousarray(_moderate(x[:, 0][~np.isnan(x[:, 0])]))
    if method == "box-cox":
        values = _positive(values)
    if np.unique(values).size < 2:
        return  # constant: the transformer gives lambda 1 without evaluating the likelihood
    for lmbda in (-1.5, 0.0, 0.5, 2.0):
        results = []
        for backend in fp.testing.available_backends():
            with fp.use_backend(backend):
                results.append(kernels().power_log_likelihood(values, lmbda, method))
        # The likelihood's -n/2 log(variance) of the transformed values is ill-conditioned
        # when they nearly coincide (431.75 and 431.78 at lambda -1.5 differ by 1e-8 of their
        # size): a few ULP per transformed value, which the backends may differ by, move it by
        # about n * eps * max|y| / std(y).
        with fp.use_backend("python"):
            y = kernels().power_transform(
                values.reshape(-1, 1), np.array([lmbda]), method, np.zeros(1), np.ones(1), False
            )[:, 0]
        spread = np.std(y)
        cond = np.max(np.abs(y)) / spread if spread > 0 else np.inf
        atol = 1e-9 + 16 * values.size * np.finfo(np.float64).eps * cond
        np.testing.assert_allclose(results, results[0], rtol=1e-9, atol=atol)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_kernel_agrees_across_backends(method, dtype):
    """The fit kernel takes the row-major matrix: it skips NaN per column, fits the columns
    with bounds, and leaves the others NaN, on both backends alike."""
    rng = np.random.default_rng(17)
    x = rng.lognormal(size=(2000, 4)) * [1.0, 30.0, 0.01, 5.0]
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 2] = np.nan
    if method == "yeo-johnson":
        x[:, 3] -= 5.0  # both branches
    x = x.astype(dtype)
    lowers, uppers = [-8.0, np.nan, np.nan, -8.0], [8.0, np.nan, np.nan, 8.0]
    results = []
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            results.append(kernels().fit_power_lambdas(x, method, lowers, uppers, 1.48e-8))
    for counts, lambdas, means, variances in results:
        np.testing.assert_array_equal(counts, (~np.isnan(x)).sum(axis=0))
        assert np.isnan(lambdas[[1, 2]]).all() and np.isnan(means[[1, 2]]).all()
        assert np.isnan(variances[[1, 2]]).all() and (variances[[0, 3]] > 0).all()
        np.testing.assert_allclose(lambdas, results[0][1], atol=LAMBDA_ATOL, equal_nan=True)
        # Each column as fitting it alone would: its values, NaN removed, as float64.
        column = x[:, 0][~np.isnan(x[:, 0])].astype(np.float64)
        alone = fp.reference.fit_power_lambdas(column[:, None], method, [-8.0], [8.0], 1.48e-8)
        np.testing.assert_allclose(lambdas[0], alone[1][0], atol=LAMBDA_ATOL)
        # A lambda off by 1e-7 moves the mean by about 1e-7 times |d mean / d lambda|.
        np.testing.assert_allclose(means[[0, 3]], results[0][2][[0, 3]], rtol=1e-5, atol=1e-5)


def _compare_with_sklearn(method, standardize, x):
    ours, theirs, _, _ = compare_with_sklearn(
        fp.PowerTransformer(method=method, standardize=standardize),
        sklearn_preprocessing.PowerTransformer(method=method, standardize=standardize),
        x,
        # A lambda off by 1e-7 moves each output by about 1e-7 times |d y / d lambda|.
        rtol=1e-5,
        atol=1e-5,
        inverse=lambda back, _: np.testing.assert_allclose(
            back, x, rtol=1e-9, atol=1e-9 * magnitude(x)
        ),
        names=False,
    )
    np.testing.assert_allclose(ours.lambdas_, theirs.lambdas_, atol=LAMBDA_ATOL, rtol=0)


@pytest.mark.parametrize(("method", "standardize"), CASES)
def test_matches_sklearn_on_adult(method, standardize, adult_numeric, backend):
    x = adult_numeric[:5000]
    if method == "box-cox":
        x = x + 1.0  # capital gain and loss are mostly 0
    _compare_with_sklearn(method, standardize, x)


@pytest.mark.parametrize(("method", "standardize"), CASES)
@given(
    x=st.integers(0, 2**32 - 1).map(
        lambda seed: np.random.default_rng(seed).lognormal(size=(60, 2)) * [1.0, 30.0]
    )
)
def test_matches_sklearn_on_random_data(method, standardize, x, backend):
    if method == "yeo-johnson":
        x = x - 2.0
    _compare_with_sklearn(method, standardize, x)


def _exact_log_likelihood(lmbda: float, x: np.ndarray, method: str) -> float:
    """The profile log-likelihood of ``lmbda`` computed from its definition in 100-digit
    decimal arithmetic: a judge of the optimisers that owes nothing to either's float64
    evaluation (which loses digits where the transformed values all but coincide)."""
    import decimal

    with decimal.localcontext(prec=100) as ctx:
        lam, one, ys, jacobian = decimal.Decimal(float(lmbda)), ctx.create_decimal(1), [], 0
        for v in map(decimal.Decimal, x.tolist()):
            if method == "box-cox":
                log = v.ln()
                jacobian += log
                ys.append(log if lam == 0 else ((lam * log).exp() - one) / lam)
            elif v >= 0:
                log = (v + one).ln()
                jacobian += log
                ys.append(log if lam == 0 else ((lam * log).exp() - one) / lam)
            else:
                log, a = (one - v).ln(), 2 - lam
                jacobian -= log
                ys.append(-log if a == 0 else -((a * log).exp() - one) / a)
        mean = sum(ys) / len(ys)
        variance = sum((y - mean) ** 2 for y in ys) / len(ys)
        return float((lam - one) * jacobian - decimal.Decimal(len(ys)) / 2 * variance.ln())


def _columns_far_from_zero(count: int) -> list[np.ndarray]:
    """Skewed columns at some distance from 0, rounded as recorded data is, where the
    likelihood is nearly flat and its float64 evaluation noisy."""
    rng = np.random.default_rng(12)
    out = []
    for _ in range(count):
        n = int(rng.choice([50, 234, 574]))
        level = float(rng.choice([1.0, 10.0, 100.0, 1000.0, 2e5]))
        spread = level * float(rng.choice([0.001, 0.01, 0.05, 0.3]))
        x = level + spread * rng.gamma(float(rng.choice([0.5, 1.0, 3.0])), 1.0, n)
        x = np.round(x if rng.random() < 0.7 else -x, int(rng.integers(0, 3)))
        if np.ptp(x) > 0:
            out.append(x)
    return out


@pytest.mark.parametrize("method", METHODS)
def test_lambda_reaches_scikit_learns_likelihood_or_better(method, adult_numeric, backend):
    """Judged exactly: fastprep's lambda has at least the likelihood of scikit-learn's on every
    column where scikit-learn's lies in fastprep's search interval. Outside it (where the
    transformed values agree to 8 digits or more, and the float64 likelihood is rounding
    noise), fastprep's column is still standardised and keeps the order of the values."""
    import warnings

    from fastprep.power import _lambda_bounds

    rng = np.random.default_rng(3)
    sample = adult_numeric[rng.choice(len(adult_numeric), 400, replace=False)]
    columns = [sample[:, j] for j in range(sample.shape[1])] + _columns_far_from_zero(60)
    if method == "box-cox":
        columns = [c - c.min() + 1.0 if c.min() <= 0 else c for c in columns]
    inside = outside = 0
    for x in columns:
        ours = fp.PowerTransformer(method=method).fit(x[:, None])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = sklearn_preprocessing.PowerTransformer(method=method).fit(x[:, None])
        lower, upper = _lambda_bounds(float(x.min()), float(x.max()), method)
        if lower <= theirs.lambdas_[0] <= upper:
            inside += 1
            mine = _exact_log_likelihood(ours.lambdas_[0], x, method)
            best = _exact_log_likelihood(theirs.lambdas_[0], x, method)
            assert mine >= best - 1e-9 * abs(best), (x[:5], ours.lambdas_, theirs.lambdas_)
        else:
            outside += 1
            y = ours.transform(x[:, None])[:, 0]
            assert abs(y.std() - 1) < 1e-6
            order = np.argsort(x, kind="stable")
            steps = np.diff(y[order])
            assert (steps[np.diff(x[order]) > 0] > 0).all() or (
                steps[np.diff(x[order]) > 0] < 0
            ).all()
    assert inside >= 20 and outside >= 1, (inside, outside)


@pytest.mark.parametrize("method", METHODS)
def test_partition_and_merge_gives_the_same_lambdas(method, backend):
    rng = np.random.default_rng(8)
    x = rng.gamma(2.0, size=(3000, 3)) + 0.1
    parts = [fp.PowerTransformer(method=method).partial_fit(p) for p in np.array_split(x, 4)]
    merged = parts[2].merge(parts[0]).merge(parts[3]).merge(parts[1])
    whole = fp.PowerTransformer(method=method).fit(x)
    # Same values, in another order: the likelihood sums differ only by rounding.
    np.testing.assert_allclose(merged.lambdas_, whole.lambdas_, atol=LAMBDA_ATOL)


def test_box_cox_refuses_non_positive_data_naming_the_column(backend):
    x = np.array([[1.0, 2.0], [3.0, 0.0], [4.0, 5.0]])
    with pytest.raises(fp.DataError, match=r"column 1.*strictly positive"):
        fp.PowerTransformer(method="box-cox").fit(x)
    fitted = fp.PowerTransformer(method="box-cox").fit(x + 1.0)
    with pytest.raises(fp.DataError, match=r"column 1.*strictly positive"):
        fitted.transform(x)
    np.testing.assert_array_equal(x[1], [3.0, 0.0])
    assert fitted.transform(x + 1.0).shape == (3, 2)  # still usable


def test_constant_and_empty_columns_get_the_identity(backend):
    x = np.array([[2.0, np.nan, 1.0], [2.0, np.nan, 5.0], [2.0, np.nan, 9.0]])
    pt = fp.PowerTransformer(standardize=False).fit(x)
    assert pt.lambdas_[0] == 1.0 and pt.lambdas_[1] == 1.0
    # lambda 1 is the identity up to rounding (expm1(log1p(x)), as in scikit-learn).
    np.testing.assert_allclose(pt.transform(x)[:, 0], x[:, 0], rtol=1e-15)


@pytest.mark.parametrize("lmbda", [-1.5, 0.5, 2.0, 3.0])
def test_log_likelihood_of_values_closer_than_the_precision_of_one(lmbda, backend):
    """Yeo-Johnson values whose power terms e^(lambda ln(1 + x)) differ by less than the
    precision of 1: the likelihood is the one of their transformed values' variance (its
    terms are taken as e^t - 1, not e^t, which would round them to a few values)."""
    values = np.array([0.0, 9.22649805e-16, 3e-16])
    y = yeo_johnson_reference(values, lmbda)
    expected = -len(values) / 2 * np.log(np.var(y)) + (lmbda - 1) * np.sum(np.log1p(values))
    got = kernels().power_log_likelihood(values, lmbda, "yeo-johnson")
    np.testing.assert_allclose(got, expected, rtol=1e-9)
