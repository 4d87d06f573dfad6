"""Shared tables and assertions for the test modules."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import strategies as st

import fastprep as fp
from fastprep.artifact import container
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, load_adult
from fastprep.reference.artifact import DTYPES
from fastprep.reference.artifact import read_artifact as reference_read

# Every transform with the parameter combinations the tests sweep.
PARAM_GRID: dict[type, list[dict]] = {
    fp.StandardScaler: [
        dict(with_mean=m, with_std=s) for m, s in itertools.product([True, False], repeat=2)
    ],
    fp.MinMaxScaler: [
        dict(feature_range=r, clip=c)
        for r, c in itertools.product([(0, 1), (-3.0, 5.5)], [False, True])
    ],
    fp.MaxAbsScaler: [{}],
    fp.RobustScaler: [
        dict(with_centering=c, with_scaling=s, quantile_range=q, unit_variance=u)
        for c, s, q, u in itertools.product(
            [True, False], [True, False], [(25.0, 75.0), (10.0, 90.0)], [False, True]
        )
    ],
    fp.KBinsDiscretizer: [
        dict(n_bins=b, encode=e, strategy=s)
        for b, e, s in itertools.product(
            [3, 5], ["ordinal", "onehot-dense"], ["quantile", "uniform"]
        )
    ]
    + [dict(n_bins=4, encode="ordinal", quantile_method="linear")],
    fp.Normalizer: [dict(norm=n) for n in ("l1", "l2", "max")],
    # Box-Cox needs positive data: tests/test_power.py covers it.
    fp.PowerTransformer: [dict(method="yeo-johnson", standardize=s) for s in (True, False)],
    fp.QuantileTransformer: [
        dict(n_quantiles=q, output_distribution=d)
        for q, d in itertools.product([1000, 7], ["uniform", "normal"])
    ],
    fp.Binarizer: [dict(threshold=t) for t in (0.0, 1.5, -2.0)],
    fp.SimpleImputer: [
        dict(strategy=s, add_indicator=a, keep_empty_features=k)
        for s, a, k in itertools.product(
            ["mean", "median", "most_frequent", "constant"], [False, True], [False, True]
        )
    ]
    + [dict(strategy="constant", fill_value=-7.5)],
    fp.PolynomialFeatures: [
        dict(degree=d, interaction_only=i, include_bias=b)
        for d, i, b in itertools.product([2, (2, 3)], [False, True], [True, False])
    ],
    fp.SplineTransformer: [
        dict(n_knots=4, degree=d, extrapolation=e, include_bias=b)
        for d, e, b in [
            (3, "constant", True),
            (2, "linear", False),
            (3, "periodic", True),
            (1, "continue", False),
        ]
    ]
    + [dict(knots="quantile", handle_missing="zeros")],
    fp.FunctionTransformer: [
        dict(func=np.log1p, inverse_func=np.expm1, feature_names_out="one-to-one"),
        dict(func=np.sqrt, feature_names_out="one-to-one"),
        dict(func=np.clip, kw_args={"a_min": 0.0, "a_max": 4.0}, feature_names_out="one-to-one"),
        dict(feature_names_out="one-to-one"),
    ],
}

ALL_CASES = [(cls, params) for cls, grid in PARAM_GRID.items() for params in grid]
# A FunctionTransformer has feature names only when asked to (as scikit-learn's).
_DEFAULTS: dict[type, dict] = {fp.FunctionTransformer: dict(feature_names_out="one-to-one")}
DEFAULT_CASES = [(cls, _DEFAULTS.get(cls, {})) for cls in PARAM_GRID]


def case_id(case) -> str:
    cls, params = case
    inside = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{cls.__name__}({inside})"


def fitted_state(transform) -> dict:
    return {name: getattr(transform, name) for name in transform._fitted_attributes}


def assert_state_close(a: dict, b: dict, *, rtol: float = 1e-12, scale: float = 0.0) -> None:
    """Fitted attributes equal within ``rtol`` (NaN equal to NaN, None to None), with an
    absolute slack of ``rtol * scale`` (``rtol * scale**2`` for variances): rounding in a mean
    is relative to the data's magnitude, not to the mean's."""
    assert a.keys() == b.keys()
    for name in a:
        va, vb = a[name], b[name]
        with np.errstate(over="ignore"):
            atol = min(rtol * (scale * scale if name.startswith("var") else scale), 1e300)
        # Below ~1e-154 squares underflow into subnormals, which carry fewer bits: a variance
        # there, and the scale (its square root), are only that precise.
        atol = max(atol, 1e-307 if name.startswith("var") else 1e-153)
        if va is None or vb is None:
            assert va is None and vb is None, name
            continue
        np.testing.assert_allclose(
            np.asarray(va, dtype=np.float64),
            np.asarray(vb, dtype=np.float64),
            rtol=rtol,
            atol=atol,
            equal_nan=True,
            err_msg=name,
        )


def magnitude(x: np.ndarray) -> float:
    """Largest finite absolute value of ``x`` (1 if none): the scale for absolute tolerances."""
    finite = np.abs(x[np.isfinite(x)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def fit_in_parts(cls, params: dict, x: np.ndarray, data) -> tuple:
    """``(merged, whole)``: ``x``'s rows split at random points, each part fitted, the parts
    merged in a random order; and one fit on all of ``x``."""
    cuts = sorted(data.draw(st.sets(st.integers(1, x.shape[0] - 1), max_size=3)))
    parts = [cls(**params).partial_fit(p) for p in np.split(x, cuts)]
    order = data.draw(st.permutations(range(len(parts))))
    merged = parts[order[0]]
    for i in order[1:]:
        merged.merge(parts[i])
    return merged, cls(**params).fit(x)


def optional(module: str):
    """An optional test dependency, imported by the test that uses it (skipped without it)."""
    return pytest.importorskip(module)


class Optional:
    """An optional test dependency (scikit-learn, scipy), imported when a test first uses it:
    that test skips without it, and the module's other tests (backend agreement, properties)
    still run."""

    def __init__(self, module: str):
        self._module = module

    def __getattr__(self, name: str):
        return getattr(optional(self._module), name)


# -- the Adult ColumnTransformer the composition and plan tests share ----------------------------

NUM, CAT = list(ADULT_NUMERIC), list(ADULT_CATEGORICAL)


def ours(sparse=False, handle_unknown="ignore"):
    """Adult's numeric columns median-imputed and standardized, categorical ones one-hot."""
    return fp.ColumnTransformer(
        [
            (
                "num",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer(strategy="median")),
                        ("scale", fp.StandardScaler()),
                    ]
                ),
                NUM,
            ),
            ("cat", fp.OneHotEncoder(handle_unknown=handle_unknown, sparse_output=sparse), CAT),
        ]
    )


def theirs(sparse=False):
    """``ours()`` in scikit-learn."""
    skc, ski = optional("sklearn.compose"), optional("sklearn.impute")
    skpl, skp = optional("sklearn.pipeline"), optional("sklearn.preprocessing")
    return skc.ColumnTransformer(
        [
            (
                "num",
                skpl.Pipeline(
                    [
                        ("impute", ski.SimpleImputer(strategy="median")),
                        ("scale", skp.StandardScaler()),
                    ]
                ),
                NUM,
            ),
            ("cat", skp.OneHotEncoder(handle_unknown="ignore", sparse_output=sparse), CAT),
        ]
    )


def dense(y):
    return y.toarray() if hasattr(y, "toarray") else y


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place (0 where both are equal or both NaN)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    spacing = np.spacing(np.maximum(np.abs(a), np.abs(b)))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(a - b) / spacing)


# -- scikit-learn, the oracle ---------------------------------------------------------------------


def sklearn_twin(ours, module: str = "sklearn.preprocessing", **overrides):
    """The scikit-learn class of ``ours``'s name, made with its parameters (and ``overrides``;
    a parameter set to None in them is left out)."""
    params = {**ours.get_params(deep=False), **overrides}
    params = {k: v for k, v in params.items() if not (k in overrides and v is None)}
    return getattr(optional(module), type(ours).__name__)(**params)


def compare_with_sklearn(
    ours,
    theirs,
    x,
    *,
    state: tuple[str, ...] = (),
    rtol: float = 1e-10,
    atol=0.0,
    inverse=None,
    names: bool = True,
):
    """Fit ``ours`` and its scikit-learn twin ``theirs`` on ``x``: the fitted attributes
    ``state``, the outputs, the feature names and (``inverse``: the tolerances, or a callable
    checking the inverses itself) the inverse transforms agree. ``atol`` may be a callable of
    ``(theirs, expected)``. Returns ``(ours, theirs, out, expected)``."""
    ours.fit(x)
    theirs.fit(x)
    for name in state:
        np.testing.assert_allclose(
            np.asarray(getattr(ours, name), dtype=np.float64),
            np.asarray(getattr(theirs, name), dtype=np.float64),
            rtol=rtol,
            atol=atol if not callable(atol) else 0.0,
            equal_nan=True,
            err_msg=name,
        )
    out, expected = ours.transform(x), theirs.transform(x)
    slack = atol(theirs, expected) if callable(atol) else atol
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=slack, equal_nan=True)
    if names:
        np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    if callable(inverse):
        inverse(ours.inverse_transform(out), theirs.inverse_transform(expected))
    elif inverse is not None:
        back_rtol, back_atol = inverse
        np.testing.assert_allclose(
            ours.inverse_transform(out),
            theirs.inverse_transform(expected),
            rtol=back_rtol,
            atol=back_atol,
            equal_nan=True,
        )
    return ours, theirs, out, expected


# -- artifacts and tables the artifact, drift and CLI tests share ----------------------------------


def rewritten(data: bytes, edit) -> bytes:
    """A validly digested artifact whose manifest (and tensors) ``edit(manifest, tensors)``
    changed: what a tool that writes a wrong state, or a newer fastprep, would produce."""
    text, start, entries = reference_read(data)
    manifest = json.loads(text)
    tensors = {
        name: np.frombuffer(data, DTYPES[dt][0], (e - b) // DTYPES[dt][1], start + b)
        .reshape(shape)
        .copy()
        for name, dt, shape, b, e in entries
    }
    edit(manifest, tensors)
    return container._container(manifest, tensors)


def adult_halves():
    """Adult split at random in two halves: both come from the training distribution."""
    table = load_adult()
    full = pa.table({c: table[c] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})
    order = np.random.default_rng(0).permutation(full.num_rows)
    half = full.num_rows // 2
    return full.take(order[:half]), full.take(order[half:])


def replace_column(table: pa.Table, name: str, column) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)
