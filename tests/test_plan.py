"""The compiled plan: one native call per batch or request row, the same numbers as the
step-by-step path, refusals left to it; the spec the core parses and validates."""

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep.datasets import load_adult
from fastprep.exceptions import SchemaError, UnknownCategoryError

from .helpers import CAT, NUM, Optional, dense, ours

skp = Optional("sklearn.preprocessing")


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    return pa.table({c: table[c] for c in NUM + CAT})


# -- the compiled plan: one native call, the same numbers as step by step ------------------------


def _step_by_step(ct, X, **kw):
    """The same fitted transformer with its plan set aside."""
    plan, ct._plan = ct._plan, None
    try:
        return ct.transform(X, **kw)
    finally:
        ct._plan = plan


PLANNED = {
    "impute+scale, onehot": lambda: ours(),
    "sparse onehot (scikit-learn's default)": lambda: ours(sparse=True),
    "categorical imputation": lambda: fp.ColumnTransformer(
        [
            ("num", fp.SimpleImputer(), NUM),
            (
                "onehot",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer(strategy="most_frequent")),
                        ("enc", fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                CAT[:4],
            ),
            (
                "ordinal",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer(strategy="constant", fill_value="?")),
                        (
                            "enc",
                            fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                        ),
                    ]
                ),
                CAT[4:],
            ),
        ]
    ),
    "indicator, minmax clip, robust, ordinal f32, count": lambda: fp.ColumnTransformer(
        [
            (
                "num",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer(strategy="mean", add_indicator=True)),
                        ("minmax", fp.MinMaxScaler(clip=True)),
                    ]
                ),
                ["age", "capital_gain"],
            ),
            ("robust", fp.RobustScaler(), ["hours_per_week"]),
            ("maxabs", fp.MaxAbsScaler(), ["fnlwgt"]),
            (
                "ord",
                fp.OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=-1,
                    dtype=np.float32,
                    min_frequency=100,
                ),
                ["occupation", "race"],
            ),
            ("count", fp.CountEncoder(normalize=True), ["native_country"]),
            ("pass", "passthrough", ["education_num"]),
        ],
        # remainder stays "drop": the string columns are not numeric
    ),
    "binning, binarizer, normalizer": lambda: fp.ColumnTransformer(
        [
            (
                "bins",
                fp.Pipeline(
                    [("impute", fp.SimpleImputer()), ("kb", fp.KBinsDiscretizer(n_bins=4))]
                ),
                ["age", "fnlwgt"],
            ),
            (
                "ord",
                fp.KBinsDiscretizer(n_bins=7, encode="ordinal", strategy="uniform"),
                ["hours_per_week"],
            ),
            ("bin", fp.Binarizer(threshold=100.0), ["capital_gain", "capital_loss"]),
            (
                "log",
                fp.FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                ["capital_gain", "fnlwgt"],
            ),
            ("norm", fp.Normalizer(norm="l1"), ["education_num", "hours_per_week", "age"]),
            ("max", fp.Normalizer(norm="max"), ["capital_gain", "age"]),
            (
                "qt",
                fp.QuantileTransformer(n_quantiles=200, output_distribution="normal"),
                ["fnlwgt", "age"],
            ),
            ("qtu", fp.QuantileTransformer(n_quantiles=50), ["capital_gain"]),
            ("power", fp.PowerTransformer(), ["hours_per_week", "capital_loss"]),
        ]
    ),
    "onehot drop+infrequent": lambda: fp.ColumnTransformer(
        [
            (
                "cat",
                fp.OneHotEncoder(
                    drop="if_binary",
                    min_frequency=0.02,
                    handle_unknown="infrequent_if_exist",
                    sparse_output=False,
                ),
                CAT,
            ),
        ]
    ),
}


@pytest.mark.parametrize("name", list(PLANNED))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plan_equals_step_by_step(adult, name, dtype, rust):
    train, test = adult.slice(0, 25_000), adult.slice(25_000)
    ct = PLANNED[name]().fit(train)
    assert ct._plan is not None, "this composition should compile"
    for part in (train, test):
        _assert_same_output(ct.transform(part, dtype=dtype), _step_by_step(ct, part, dtype=dtype))
    rows = test.to_pylist()[:300]
    expected = _step_by_step(ct, test.slice(0, 300), dtype=dtype)
    want = dense(expected)
    for i, row in enumerate(rows):
        np.testing.assert_array_equal(dense(ct.transform_one(row, dtype=dtype)).ravel(), want[i])
    _assert_same_output(ct.transform_records(rows, dtype=dtype), expected)


def _assert_same_output(a, b):
    """Equal arrays, or CSR matrices with the same structure, values and dtypes."""
    assert type(a) is type(b)
    if hasattr(a, "indptr"):
        for x, y in ((a.indptr, b.indptr), (a.indices, b.indices), (a.data, b.data)):
            np.testing.assert_array_equal(x, y, strict=True)
        assert a.shape == b.shape
    else:
        np.testing.assert_array_equal(a, b, strict=True)


def test_plan_leaves_errors_and_warnings_to_the_step_by_step_path(adult, backend):
    ct = ours(handle_unknown="error").fit(adult)
    row = adult.slice(0, 1).to_pylist()[0]
    with pytest.raises(UnknownCategoryError, match=r"'race'.*'Martian'"):
        ct.transform({**{k: [v] for k, v in row.items()}, "race": ["Martian"]})
    with pytest.raises(UnknownCategoryError, match="missing value"):
        fp.ColumnTransformer([("c", fp.OneHotEncoder(sparse_output=False), ["race"])]).fit(
            adult
        ).transform_one({"race": None})
    warn = fp.ColumnTransformer(
        [("c", fp.OneHotEncoder(handle_unknown="warn", sparse_output=False), ["race"])]
    )
    warn.fit(adult)
    with pytest.warns(UserWarning, match="unknown categories"):
        warn.transform_one({"race": "Martian"})
    # Values of a type the request path does not read take the batch path, and its errors.
    with pytest.raises(SchemaError, match="'age'"):
        ct.transform_one({**row, "age": "forty"})
    with pytest.raises(fp.FastprepError):
        ct.transform_one({**row, "race": 7})


def test_steps_without_a_native_form_run_step_by_step(adult, backend):
    python_only = fp.ColumnTransformer(
        [
            ("log", skp.FunctionTransformer(np.log1p, feature_names_out="one-to-one"), ["age"]),
            ("cat", fp.OneHotEncoder(sparse_output=False), ["race"]),
        ]
    ).fit(adult)
    box_cox = fp.ColumnTransformer([("bc", fp.PowerTransformer(method="box-cox"), ["age"])])
    box_cox.fit(adult)
    for ct in (python_only, box_cox):
        assert ct._plan is None
        assert ct.transform(adult).shape[0] == adult.num_rows


def test_sixteen_threads_share_one_plan(adult, backend):
    from concurrent.futures import ThreadPoolExecutor

    ct = ours().fit(adult)
    batches = [adult.slice(i * 2000, 2000) for i in range(16)]
    expected = [ct.transform(b) for b in batches]
    rows = adult.slice(0, 64).to_pylist()
    expected_rows = ct.transform(adult.slice(0, 64))

    def work(i):
        with fp.use_backend(backend):
            one = np.stack([ct.transform_one(r) for r in rows])
            return ct.transform(batches[i]), one

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(16)))
    for (got, one), want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(one, expected_rows)


def test_the_gil_is_released_while_a_plan_runs(adult, rust):
    """While one thread transforms a large batch in Rust, another Python thread keeps going."""
    import threading
    import time

    big = pa.concat_tables([adult] * 40)  # 1.3M rows
    ct = ours().fit(adult)
    ct.transform(big.slice(0, 1000))
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)

    assert ct._plan is not None  # one native call: no Python between kernels
    frame_input = {n: big.column(n) for n in big.schema.names}
    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.01)
    before = ticks
    start = time.perf_counter()
    ct.transform(frame_input)
    elapsed = time.perf_counter() - start
    during = ticks - before
    done.set()
    counter.join()
    # The counter thread ran throughout the native call, not only between Python steps.
    assert during > 100, (during, elapsed)


def test_a_numeric_pipeline_compiles_too(adult, rust):
    X = np.column_stack([adult.column(n).to_numpy() for n in ["age", "fnlwgt"]]).astype(float)
    X[::7, 0] = np.nan
    pipe = fp.Pipeline([("impute", fp.SimpleImputer()), ("scale", fp.MinMaxScaler())])
    pipe.fit(X)  # positional: columns x0, x1 (strided views of X)
    assert pipe._plan is not None
    plan, pipe._plan = pipe._plan, None
    expected = pipe.transform(X)
    pipe._plan = plan
    np.testing.assert_array_equal(pipe.transform(X), expected)
    named = fp.Pipeline([("impute", fp.SimpleImputer()), ("scale", fp.MinMaxScaler())])
    named.fit({"age": X[:, 0], "fnlwgt": X[:, 1]})
    one = named.transform_one({"age": None, "fnlwgt": 3.0})
    np.testing.assert_array_equal(one, named.transform({"age": [np.nan], "fnlwgt": [3.0]})[0])
    np.testing.assert_array_equal(named.transform({"age": X[:, 0], "fnlwgt": X[:, 1]}), expected)


# -- the plan against the reference, on generated data --------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fastprep.testing.strategies import fit_and_transform_matrices  # noqa: E402

ARITHMETIC = [
    lambda: fp.Pipeline(
        [("i", fp.SimpleImputer(strategy="median", add_indicator=True)), ("s", fp.StandardScaler())]
    ),
    lambda: fp.MinMaxScaler(clip=True),
    lambda: fp.RobustScaler(),
    lambda: fp.MaxAbsScaler(),
    lambda: fp.Binarizer(threshold=0.5),
    lambda: fp.FunctionTransformer(np.clip, kw_args={"a_min": -1.0, "a_max": 2.0}),
    lambda: fp.FunctionTransformer(np.sqrt),
    lambda: fp.PolynomialFeatures((1, 3)),
    lambda: fp.SplineTransformer(n_knots=4, extrapolation="linear", handle_missing="zeros"),
    lambda: fp.SplineTransformer(degree=2, extrapolation="periodic"),
    lambda: fp.Normalizer(norm="l2"),
    lambda: fp.KBinsDiscretizer(n_bins=3, strategy="uniform"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=60)
@given(
    data=fit_and_transform_matrices(),
    which=st.integers(0, len(ARITHMETIC) - 1),
    words=st.lists(st.one_of(st.none(), st.sampled_from(["a", "é", "", "zz"])), min_size=1),
)
def test_plan_equals_the_reference_on_generated_data(data, which, words):
    """The compiled plan (Rust) against the step-by-step path on the NumPy reference kernels:
    NaN, subnormals, huge values, constant columns, float32 and float64 inputs."""
    if fp._backend._core is None:
        pytest.skip("the plan needs the compiled core")
    fit_x, x = data
    names = [f"c{j}" for j in range(fit_x.shape[1])]
    cats = (words * (fit_x.shape[0] // len(words) + 1))[: fit_x.shape[0]]
    fit = {**{n: fit_x[:, j] for j, n in enumerate(names)}, "w": np.array(cats, dtype=object)}
    test = {
        **{n: x[:, j] for j, n in enumerate(names)},
        "w": np.array((cats * (x.shape[0] + 1))[: x.shape[0]], dtype=object),
    }
    ct = fp.ColumnTransformer(
        [
            ("num", ARITHMETIC[which](), names),
            ("cat", fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["w"]),
        ]
    )
    with fp.use_backend("rust"):
        ct.fit(fit)
        # Only an imputer dropping an all-missing column keeps the transformer uncompiled.
        assert ct._plan is not None or (which == 0 and np.isnan(fit_x).all(axis=0).any())
        planned = ct.transform(test)
    with fp.use_backend("python"):
        reference = ct.transform(test)  # the same fit, step by step on the reference kernels
    np.testing.assert_array_equal(planned, reference)
