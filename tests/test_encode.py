"""Categorical encoders: scikit-learn oracles on Adult, Rust vs reference on generated strings,
every input layout, mergeable fits, missing/unknown/infrequent policies, and bad input."""

import gc
import itertools
import sys
import warnings

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import preprocessing as skp

import fastprep as fp
from fastprep import reference
from fastprep.datasets import ADULT_CATEGORICAL, load_adult
from fastprep.exceptions import (
    DataError,
    NotFittedError,
    ParameterError,
    SchemaError,
    UnknownCategoryError,
)
from fastprep.testing import available_backends

# -- Adult: a training part, and a held-out part that holds categories training never saw ----


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    X = np.stack([table[c] for c in ADULT_CATEGORICAL], axis=1)
    rng = np.random.default_rng(0)
    held = rng.random(X.shape[0]) < 0.2
    # The rarest category of each column goes to the held-out part only: an unknown there.
    for j in range(X.shape[1]):
        values, counts = np.unique(X[:, j][X[:, j] != None], return_counts=True)  # noqa: E711
        held |= X[:, j] == values[np.argmin(counts)]
    train, test = X[~held], X[held]
    return train, test


def sk(X):
    """The same table as scikit-learn takes it: missing as NaN."""
    return np.where(X == None, np.nan, X)  # noqa: E711


NO_MISSING = [
    j
    for j, c in enumerate(ADULT_CATEGORICAL)
    if c not in ("workclass", "occupation", "native_country")
]
INFREQUENT = [(None, None), (100, None), (0.01, None), (None, 5), (50, 10)]


def dense(y):
    return y.toarray() if hasattr(y, "toarray") else y


@pytest.mark.parametrize("drop", [None, "first", "if_binary"])
@pytest.mark.parametrize("handle_unknown", ["error", "ignore", "infrequent_if_exist", "warn"])
@pytest.mark.parametrize("min_frequency,max_categories", INFREQUENT)
def test_onehot_equals_sklearn_on_adult(
    adult, drop, handle_unknown, min_frequency, max_categories, backend
):
    train, test = adult
    params = dict(
        drop=drop,
        handle_unknown=handle_unknown,
        min_frequency=min_frequency,
        max_categories=max_categories,
        sparse_output=False,
    )
    infrequent = min_frequency is not None or max_categories is not None
    # fastprep never groups the missing category as infrequent (scikit-learn's OneHotEncoder
    # may): with infrequent grouping, compare on the columns without missing values.
    cols = NO_MISSING if infrequent else list(range(train.shape[1]))
    ours = fp.OneHotEncoder(**params).fit(train[:, cols])
    theirs = skp.OneHotEncoder(**params).fit(sk(train[:, cols]))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    for a, b in zip(ours.categories_, theirs.categories_, strict=True):
        assert list(map(str, a)) == list(map(str, b))
    parts = [train] if handle_unknown == "error" else [train, test]
    for part in parts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = ours.transform(part[:, cols])
            expected = theirs.transform(sk(part[:, cols]))
        np.testing.assert_array_equal(y, expected)
    if drop is not None:
        assert [None if d is None else int(d) for d in ours.drop_idx_] == [
            None if d is None else int(d) for d in theirs.drop_idx_
        ]


@pytest.mark.parametrize("min_frequency,max_categories", INFREQUENT[1:])
def test_infrequent_categories_follow_sklearn_ordinal_rule_with_missing(
    adult, min_frequency, max_categories, backend
):
    """With missing values, both encoders use scikit-learn's OrdinalEncoder rule: missing is
    never infrequent."""
    train, _ = adult
    params = dict(min_frequency=min_frequency, max_categories=max_categories)
    theirs = skp.OrdinalEncoder(**params).fit(sk(train))
    for ours in (fp.OneHotEncoder(**params).fit(train), fp.OrdinalEncoder(**params).fit(train)):
        for a, b in zip(ours.infrequent_categories_, theirs.infrequent_categories_, strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                assert list(a) == list(b)


def test_onehot_missing_is_its_own_column_even_when_rare(backend):
    X = np.array([["a"]] * 60 + [["b"]] * 50 + [[None]], dtype=object)
    enc = fp.OneHotEncoder(sparse_output=False, max_categories=2).fit(X)
    assert list(enc.get_feature_names_out()) == ["x0_a", "x0_nan", "x0_infrequent_sklearn"]
    np.testing.assert_array_equal(enc.transform([[None], ["b"]]), [[0, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize("sparse_output", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.uint8])
def test_onehot_output_types_equal_sklearn(adult, sparse_output, dtype, backend):
    train, test = adult
    params = dict(sparse_output=sparse_output, dtype=dtype, handle_unknown="ignore")
    y = fp.OneHotEncoder(**params).fit(train).transform(test)
    expected = skp.OneHotEncoder(**params).fit(sk(train)).transform(sk(test))
    assert type(y) is type(expected)
    assert y.dtype == expected.dtype
    if sparse_output:
        assert y.indices.dtype == expected.indices.dtype == np.int32
        assert y.has_sorted_indices
    np.testing.assert_array_equal(dense(y), dense(expected))


@pytest.mark.parametrize(
    "handle_unknown,unknown_value",
    [("error", None), ("use_encoded_value", -1), ("use_encoded_value", np.nan)],
)
@pytest.mark.parametrize("encoded_missing_value", [np.nan, -2])
@pytest.mark.parametrize("min_frequency,max_categories", INFREQUENT)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ordinal_equals_sklearn_on_adult(
    adult,
    handle_unknown,
    unknown_value,
    encoded_missing_value,
    min_frequency,
    max_categories,
    dtype,
    backend,
):
    train, test = adult
    params = dict(
        handle_unknown=handle_unknown,
        unknown_value=unknown_value,
        encoded_missing_value=encoded_missing_value,
        min_frequency=min_frequency,
        max_categories=max_categories,
        dtype=dtype,
    )
    ours = fp.OrdinalEncoder(**params).fit(train)
    theirs = skp.OrdinalEncoder(**params).fit(sk(train))
    for part in [train] if handle_unknown == "error" else [train, test]:
        y = ours.transform(part)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y, theirs.transform(sk(part)))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


def test_ordinal_inverse_transform_equals_sklearn(adult, backend):
    train, test = adult
    params = dict(handle_unknown="use_encoded_value", unknown_value=-1, min_frequency=100)
    # (scikit-learn's inverse fails on missing values with infrequent grouping: no missing here)
    train, test = train[:, NO_MISSING], test[:, NO_MISSING]
    ours = fp.OrdinalEncoder(**params).fit(train)
    theirs = skp.OrdinalEncoder(**params).fit(train)
    codes = ours.transform(test)
    got, expected = ours.inverse_transform(codes), theirs.inverse_transform(codes)
    assert [[str(v) for v in r] for r in got] == [[str(v) for v in r] for r in expected]
    missing = fp.OrdinalEncoder().fit(_obj(["a", None]))
    back = missing.inverse_transform(missing.transform(_obj([None, "a"])))
    assert np.isnan(back[0, 0]) and back[1, 0] == "a"


@pytest.mark.parametrize("drop", [None, "first"])
def test_onehot_inverse_transform_equals_sklearn(adult, drop, backend):
    train, _ = adult
    cols = NO_MISSING
    ours = fp.OneHotEncoder(drop=drop, min_frequency=200).fit(train[:, cols])
    theirs = skp.OneHotEncoder(drop=drop, min_frequency=200).fit(train[:, cols])
    y = ours.transform(train[:, cols])
    got, expected = ours.inverse_transform(y), theirs.inverse_transform(y)
    assert [[str(v) for v in r] for r in got] == [[str(v) for v in r] for r in expected]


def test_explicit_categories_keep_their_order_like_sklearn(adult, backend):
    train, test = adult
    cats = [
        [*sorted({v for v in train[:, j] if v is not None}, reverse=True), np.nan]
        if j in (0, 3)
        else sorted({v for v in train[:, j] if v is not None})
        for j in range(train.shape[1])
    ]
    cols = [0, 1, 3]
    given = [cats[j] for j in cols]
    ours = fp.OneHotEncoder(categories=given, handle_unknown="ignore", sparse_output=False)
    theirs = skp.OneHotEncoder(categories=given, handle_unknown="ignore", sparse_output=False)
    ours.fit(train[:, cols])
    theirs.fit(sk(train[:, cols]))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    np.testing.assert_array_equal(
        ours.transform(test[:, cols]), theirs.transform(sk(test[:, cols]))
    )
    o = fp.OrdinalEncoder(categories=given).fit(train[:, cols])
    s = skp.OrdinalEncoder(categories=given).fit(sk(train[:, cols]))
    np.testing.assert_array_equal(o.transform(train[:, cols]), s.transform(sk(train[:, cols])))


def test_numeric_and_boolean_categories_equal_sklearn(backend):
    rng = np.random.default_rng(1)
    ints = rng.integers(-3, 4, size=(200, 1))
    floats = rng.choice([-1.5, 0.0, 2.25, np.nan], size=(200, 1))
    bools = rng.random((200, 1)) < 0.3
    for X in (ints, floats, bools):
        ours = fp.OneHotEncoder(sparse_output=False).fit(X)
        theirs = skp.OneHotEncoder(sparse_output=False).fit(X)
        np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))
        assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
        np.testing.assert_array_equal(
            fp.OrdinalEncoder().fit(X).transform(X), skp.OrdinalEncoder().fit(X).transform(X)
        )


def test_negative_zero_is_zero(backend):
    enc = fp.OrdinalEncoder().fit(np.array([[0.0], [1.0]]))
    np.testing.assert_array_equal(enc.transform(np.array([[-0.0]])), [[0.0]])


# -- Count encoding ---------------------------------------------------------------------------


def test_count_encoder_counts_frequencies_and_missing(backend):
    X = {"c": ["a", "b", "a", None, "a"]}
    enc = fp.CountEncoder().fit(X)
    got = enc.transform({"c": ["a", "b", None, "zzz"]}).ravel()
    np.testing.assert_array_equal(got, [3, 1, 1, 0])
    freq = fp.CountEncoder(normalize=True).fit(X).transform({"c": ["a", None]}).ravel()
    np.testing.assert_array_equal(freq, [3 / 5, 1 / 5])
    assert list(enc.counts_[0]) == [3, 1, 1]
    with pytest.raises(UnknownCategoryError, match="'zzz'"):
        fp.CountEncoder(handle_unknown="error").fit(X).transform({"c": ["zzz"]})
    assert fp.CountEncoder(unknown_value=-1.0).fit(X).transform({"c": ["q"]})[0, 0] == -1.0


def test_count_encoder_without_missing_at_fit_gives_zero_for_missing(backend):
    enc = fp.CountEncoder().fit({"c": ["a", "a"]})
    np.testing.assert_array_equal(enc.transform({"c": [None, "a"]}).ravel(), [0, 2])


# -- Missing values: None, NaN and Arrow null are one case --------------------------------------


def test_none_nan_and_null_are_the_same_missing_value(backend):
    a = fp.OneHotEncoder(sparse_output=False).fit(np.array([["x"], [None]], dtype=object))
    want = [[0, 1], [0, 1], [0, 1], [1, 0]]
    np.testing.assert_array_equal(
        a.transform(np.array([[None], [np.nan], [float("nan")], ["x"]], dtype=object)), want
    )
    with pytest.warns(UserWarning, match="fitted without feature names"):
        by_name = a.transform(pa.table({"x0": [None, None, None, "x"]}))
    np.testing.assert_array_equal(by_name, want)
    assert list(a.get_feature_names_out()) == ["x0_x", "x0_nan"]


def test_missing_not_seen_at_fit_is_refused_or_ignored_but_named_missing(backend):
    enc = fp.OneHotEncoder().fit({"c": ["a", "b"]})
    with pytest.raises(UnknownCategoryError, match="missing value"):
        enc.transform({"c": ["a", None]})
    ignore = fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit({"c": ["a"]})
    np.testing.assert_array_equal(ignore.transform({"c": [None]}), [[0]])
    # OrdinalEncoder: a missing value is never unknown, it gets encoded_missing_value.
    ordinal = fp.OrdinalEncoder(encoded_missing_value=-7).fit({"c": ["a", "b"]})
    np.testing.assert_array_equal(ordinal.transform({"c": [None, "b"]}).ravel(), [-7, 1])


def test_unknown_goes_to_infrequent_column_when_asked(backend):
    X = {"c": ["a"] * 10 + ["b"] * 10 + ["rare"]}
    enc = fp.OneHotEncoder(
        min_frequency=2, handle_unknown="infrequent_if_exist", sparse_output=False
    ).fit(X)
    np.testing.assert_array_equal(
        enc.transform({"c": ["new", "rare", "a"]}), [[0, 0, 1], [0, 0, 1], [1, 0, 0]]
    )
    warn = fp.OneHotEncoder(min_frequency=2, handle_unknown="warn").fit(X)
    with pytest.warns(UserWarning, match="unknown categories"):
        warn.transform({"c": ["new"]})


# -- Rust vs reference, on generated strings ------------------------------------------------

POOL = ["", "a", "b", "ä", "日本", "🙂", "a" * 300, "x y", "A", "\x00", "é"]
#: Strings that share a prefix and differ, if at all, in their last bytes or length, around the
#: 8, 16 and 24 bytes that the Rust lookup table keeps in a slot: a wrong padding or tail
#: comparison would confuse them.
NEAR = st.builds(
    lambda n, tail: "p" * n + tail,
    st.integers(0, 33),
    st.sampled_from(["", "a", "b", "\x00", "\x00\x00", "ab", "ba", "é"]),
)
texts = st.one_of(st.sampled_from(POOL), st.text(max_size=20), NEAR)
cells = st.one_of(texts, st.none(), st.just(float("nan")))
columns = st.lists(cells, min_size=0, max_size=60)


def _run(backend, f):
    with fp.use_backend(backend):
        return f()


def _agree(f):
    if len(available_backends()) < 2:
        pytest.skip("one backend only: nothing to compare")
    results = [_run(b, f) for b in available_backends()]
    for other in results[1:]:
        _assert_same(results[0], other)
    return results[0]


def _assert_same(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif hasattr(a, "toarray"):
        _assert_same(a.indptr, b.indptr)
        _assert_same(a.indices, b.indices)
        _assert_same(a.data, b.data)
    else:
        assert a == b


def _obj(values):
    a = np.empty((len(values), 1), dtype=object)
    a[:, 0] = values
    return a


@pytest.mark.filterwarnings("ignore:.*unknown categories")
@given(train=columns.filter(len), test=columns)
def test_backends_agree_on_generated_strings(train, test):
    X, Y = _obj(train), _obj(test)

    def encode():
        one = fp.OneHotEncoder(handle_unknown="ignore").fit(X)
        dense_ = fp.OneHotEncoder(
            handle_unknown="ignore", sparse_output=False, drop="first", min_frequency=2
        ).fit(X)
        ordinal = fp.OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, max_categories=3
        ).fit(X)
        count = fp.CountEncoder(normalize=True).fit(X)
        return (
            one.transform(Y),
            dense_.transform(Y),
            ordinal.transform(Y),
            count.transform(Y),
            tuple(one.categories_[0].astype(str)),
        )

    _agree(encode)


def test_strings_equal_up_to_a_slot_boundary_are_told_apart(backend):
    """The Rust table keeps a string's first 24 bytes in its slot, zero-padded, and its length:
    strings that differ only past those bytes, or only in trailing NUL bytes, are distinct."""
    known = ["p" * 24 + "a", "p" * 30 + "x", "p" * 16 + "a", "p" * 8, "q" * 7, "r" * 23]
    unknown = ["p" * 24 + "b", "p" * 30 + "y", "p" * 16 + "b", "p" * 8 + "\x00", "q" * 7 + "\x00"]
    unknown += ["r" * 23 + "\x00", "r" * 22, "p" * 24 + "a\x00", "p" * 24]
    X = _obj(known)
    Y = _obj(unknown + known)

    def codes():
        enc = fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(X)
        return enc.transform(Y)

    got = _agree(codes)
    expected = [-1] * len(unknown) + [sorted(known).index(k) for k in known]
    np.testing.assert_array_equal(got[:, 0], expected)


@given(train=columns.filter(len))
def test_categories_are_sorted_by_code_point_like_python(train, backend):
    enc = fp.OrdinalEncoder().fit(_obj(train))
    seen = {v for v in train if isinstance(v, str)}
    expected = sorted(seen)
    cats = list(enc.categories_[0])
    if any(not isinstance(v, str) for v in train):
        assert np.isnan(cats[-1])
        cats = cats[:-1]
    assert cats == expected


numbers_ = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0]),
)


@given(
    train=st.lists(numbers_, min_size=1, max_size=50),
    test=st.lists(numbers_, max_size=50),
    width=st.sampled_from([32, 64]),
)
def test_backends_agree_on_float_categories(train, test, width):
    dtype = np.float32 if width == 32 else np.float64
    with np.errstate(over="ignore"):
        X = np.asarray(train, dtype=dtype).reshape(-1, 1)
        Y = np.asarray(test, dtype=dtype).reshape(-1, 1)

    def encode():
        e = fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(X)
        o = fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(X)
        return e.transform(Y), o.transform(Y), o.categories_[0]

    ours = _agree(encode)
    # scikit-learn refuses infinity and empty input (fastprep takes ±inf as categories), and
    # calls a missing value unknown when fit saw none (fastprep: encoded_missing_value).
    unseen_missing = np.isnan(Y).any() and not np.isnan(X).any()
    if np.all(~np.isinf(X)) and np.all(~np.isinf(Y)) and Y.size and not unseen_missing:
        theirs = skp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        np.testing.assert_array_equal(ours[1], theirs.fit(X).transform(Y))


@given(
    train=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=40),
    test=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40),
)
def test_backends_agree_on_integer_categories(train, test):
    X = np.asarray(train, dtype=np.int64).reshape(-1, 1)
    Y = np.asarray(test, dtype=np.int64).reshape(-1, 1)

    def encode():
        o = fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(X)
        return o.transform(Y), o.categories_[0]

    ours = _agree(encode)
    np.testing.assert_array_equal(ours[1], np.unique(X))


def test_one_row_empty_and_constant_columns(backend):
    one = _obj(["only"])
    enc = fp.OneHotEncoder(sparse_output=False).fit(one)
    np.testing.assert_array_equal(enc.transform(one), [[1.0]])
    np.testing.assert_array_equal(enc.transform(_obj([])), np.zeros((0, 1)))
    assert enc.transform(_obj([])).dtype == np.float64
    constant = _obj(["k"] * 100)
    np.testing.assert_array_equal(
        fp.OrdinalEncoder().fit(constant).transform(constant), np.zeros((100, 1))
    )
    for sparse_output in (True, False):
        dropped = fp.OneHotEncoder(drop="first", sparse_output=sparse_output).fit(constant)
        assert dropped.transform(constant).shape == (100, 0)
    with pytest.raises(DataError, match="0 rows"):
        fp.OneHotEncoder().fit(_obj([]))


@pytest.mark.slow
def test_a_million_categories_agree_across_backends(backend):
    values = np.array([f"c{i:07d}" for i in range(1_000_000)], dtype=object)
    table = pa.table({"c": pa.array(values)})
    probe = pa.table({"c": pa.array(["c0999999", "c0000000", "nope", None])})

    def encode():
        enc = fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        enc.fit(table)
        return enc.transform(probe), len(enc.categories_[0])

    codes, n = _agree(encode)
    assert n == 1_000_000
    np.testing.assert_array_equal(codes.ravel(), [999_999, 0, -1, np.nan])


# -- Every input layout gives the same result ---------------------------------------------------


def _layouts(values):
    """The same string column in every layout fastprep reads."""
    arr = pa.array(values, type=pa.string())
    padded = pa.array(["pad", "pad", *values, "pad"], type=pa.string())
    half = len(values) // 2
    yield "numpy-object", np.array(values, dtype=object)
    yield "numpy-str-dtype", np.array(values, dtype=np.dtypes.StringDType(na_object=None))
    yield "list", list(values)
    yield "string", arr
    yield "large_string", arr.cast(pa.large_string())
    yield "string_view", arr.cast(pa.string_view())
    yield "sliced", padded.slice(2, len(values))
    yield "chunked", pa.chunked_array([arr.slice(0, half), arr.slice(half)], type=pa.string())
    yield "dictionary", arr.dictionary_encode()
    yield (
        "dictionary-int8",
        pa.DictionaryArray.from_arrays(
            pa.array(arr.dictionary_encode().indices.to_pylist(), type=pa.int8()),
            arr.dictionary_encode().dictionary,
        ),
    )
    yield (
        "chunked-dictionary",
        pa.chunked_array(
            [arr.slice(0, half).dictionary_encode(), arr.slice(half).dictionary_encode()]
        ),
    )
    yield (
        "sliced-dictionary",
        pa.array(["pad", *values], type=pa.string()).dictionary_encode().slice(1),
    )


def test_every_string_layout_gives_the_same_codes(backend):
    rng = np.random.default_rng(3)
    pool = ["red", "green", "a much longer category than twelve bytes", "", "ü", None]
    values = [pool[i] for i in rng.integers(0, len(pool), 101)]
    enc = fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    enc.fit({"c": values[:60]})
    expected = enc.transform({"c": np.array(values, dtype=object)})
    for name, column in _layouts(values):
        got = enc.transform({"c": column})
        np.testing.assert_array_equal(got, expected, err_msg=name)
        got = (
            enc.transform(pa.table({"c": column}))
            if isinstance(column, (pa.Array, pa.ChunkedArray))
            else got
        )
        np.testing.assert_array_equal(got, expected, err_msg=name)
        refit = fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        refit.fit({"c": column})
        assert list(refit.categories_[0].astype(str)) == list(
            fp.OneHotEncoder().fit({"c": values}).categories_[0].astype(str)
        ), name


def test_record_batch_and_arrow_stream_objects(backend):
    values = ["a", "b", None, "a"]
    table = pa.table({"c": values, "n": [1, 2, 2, 3]})
    enc = fp.OrdinalEncoder().fit(table)
    expected = enc.transform(table)
    np.testing.assert_array_equal(enc.transform(table.to_batches()[0]), expected, strict=True)

    class Stream:  # any object speaking the Arrow PyCapsule stream protocol
        def __arrow_c_stream__(self, requested_schema=None):
            return table.__arrow_c_stream__(requested_schema)

    np.testing.assert_array_equal(enc.transform(Stream()), expected)
    import polars as pl

    np.testing.assert_array_equal(enc.transform(pl.from_arrow(table)), expected)


def test_a_mapping_is_read_by_name_and_a_table_as_scikit_learn_reads_it(backend):
    """A request's dict: any key order, other keys ignored. A table: the fitted names in the
    fitted order, refused otherwise in scikit-learn's words."""
    enc = fp.OrdinalEncoder().fit({"a": ["x", "y"], "b": ["p", "q"]})
    got = enc.transform({"b": ["q"], "extra": ["ignored"], "a": ["x"]})
    np.testing.assert_array_equal(got, [[0.0, 1.0]])
    with pytest.raises(SchemaError, match="yet now missing:\n- b\n"):
        enc.transform({"a": ["x"]})
    with pytest.raises(SchemaError, match="must be in the same order as they were in fit"):
        enc.transform(pa.table({"b": ["q"], "a": ["x"]}))
    with pytest.raises(SchemaError, match="unseen at fit time:\n- extra\n"):
        enc.transform(pa.table({"a": ["x"], "b": ["q"], "extra": ["z"]}))


def test_integer_column_can_be_looked_up_as_floats_and_back(backend):
    enc = fp.OrdinalEncoder().fit(np.array([[1], [2], [3]]))
    np.testing.assert_array_equal(enc.transform(np.array([[2.0], [np.nan]])), [[1.0], [np.nan]])
    with pytest.raises(SchemaError, match="non-integral"):
        enc.transform(np.array([[2.5]]))
    with pytest.raises(SchemaError, match="fitted on integers, got strings"):
        enc.transform(np.array([["2"]], dtype=object))


# -- Mergeable fit -------------------------------------------------------------------------------


@given(cut=st.lists(st.integers(1, 300), min_size=1, max_size=4, unique=True))
def test_partial_fit_and_merge_equal_one_fit(adult, cut, backend):
    train, _ = adult
    X = train[:400]
    cuts = sorted(cut)
    parts = np.split(X, cuts)
    parts = [p for p in parts if len(p)]
    params = dict(
        min_frequency=5, max_categories=6, sparse_output=False, handle_unknown="infrequent_if_exist"
    )
    whole = fp.OneHotEncoder(**params).fit(X)
    streamed = fp.OneHotEncoder(**params)
    for p in parts:
        streamed.partial_fit(p)
    fits = [fp.OneHotEncoder(**params).fit(p) for p in parts]
    merged = fits[-1]
    for f in reversed(fits[:-1]):
        merged.merge(f)
    for enc in (streamed, merged):
        assert list(enc.get_feature_names_out()) == list(whole.get_feature_names_out())
        np.testing.assert_array_equal(enc.transform(X), whole.transform(X))
        for a, b in zip(enc.accumulator_.columns, whole.accumulator_.columns, strict=True):
            _assert_same(tuple(a[1:4:2]), tuple(b[1:4:2]))


def test_merge_kernels_agree_across_backends(backend):
    a = reference.count_categories(
        [("utf8", np.array([0, 1, 2, 4], np.int32), np.frombuffer(b"baab", np.uint8), None, 0)]
    )
    b = reference.count_categories(
        [("utf8", np.array([0, 2, 3], np.int64), np.frombuffer(b"abz", np.uint8), None, 0)]
    )
    m = _agree(lambda: fp._backend.kernels().merge_category_counts(a, b))
    # "b", "a", "ab" merged with "ab", "z"
    assert bytes(m[1]) == b"aabbz"
    assert list(m[2]) == [0, 1, 3, 4, 5]
    assert list(m[3]) == [1, 2, 1, 1]


# -- Lookup tables are built once -------------------------------------------------------------


def test_lookup_tables_are_built_at_fit_and_reused(backend):
    enc = fp.OrdinalEncoder().fit({"c": ["a", "b"]})
    first = enc._index_list()
    enc.transform({"c": ["a"]})
    assert enc._index_list() is first


# -- Bad input: clear errors, nothing changed ---------------------------------------------------


def test_unknown_category_error_names_column_and_value(backend):
    enc = fp.OneHotEncoder().fit({"city": ["Paris", "Oslo"]})
    with pytest.raises(UnknownCategoryError, match=r"column 'city'.*'Lima'.*row 1"):
        enc.transform({"city": ["Oslo", "Lima"]})
    with pytest.raises(ValueError):  # the builtin base class still catches it
        enc.transform({"city": ["Lima"]})


def test_mixed_types_and_non_categorical_objects_are_refused(backend):
    with pytest.raises(DataError, match=r"column 0: mixed types in one column \(int, str\)"):
        fp.OneHotEncoder().fit(_obj(["a", 1]))
    with pytest.raises(DataError, match="neither strings nor numbers"):
        fp.OrdinalEncoder().fit(_obj([object(), object()]))
    with pytest.raises(DataError, match="column 0 holds complex numbers"):
        fp.OrdinalEncoder().fit(np.array([[1 + 2j]]))
    with pytest.raises(DataError, match="column 'c': dtype complex128 is not categorical"):
        fp.OrdinalEncoder().fit({"c": np.array([1 + 2j])})


def test_failed_calls_leave_input_and_fit_untouched(backend):
    X = _obj(["a", "b", None])
    before = X.copy()
    enc = fp.OneHotEncoder(sparse_output=False).fit(X)
    state = (list(enc.categories_[0]), enc.transform(X).copy())
    for bad in (_obj(["zzz"]), _obj([1]), np.zeros((1, 2), dtype=object)):
        with pytest.raises(fp.FastprepError):
            enc.transform(bad)
    with pytest.raises(fp.FastprepError):
        enc.partial_fit(_obj(["a", 3]))
    with pytest.raises(fp.FastprepError):
        enc.partial_fit(np.array([[1.5]]))
    assert [str(v) for v in enc.categories_[0]] == [str(v) for v in state[0]]
    np.testing.assert_array_equal(enc.transform(X), state[1])
    np.testing.assert_array_equal(X == None, before == None)  # noqa: E711


@pytest.mark.parametrize(
    "cls,params,match",
    [
        (fp.OneHotEncoder, {"drop": "last"}, "drop"),
        (fp.OneHotEncoder, {"handle_unknown": "skip"}, "handle_unknown"),
        (fp.OneHotEncoder, {"min_frequency": 0}, "min_frequency"),
        (fp.OneHotEncoder, {"min_frequency": 1.5}, "min_frequency"),
        (fp.OneHotEncoder, {"max_categories": 0}, "max_categories"),
        (fp.OneHotEncoder, {"dtype": "U3"}, "dtype"),
        (fp.OrdinalEncoder, {"handle_unknown": "use_encoded_value"}, "unknown_value"),
        (fp.OrdinalEncoder, {"unknown_value": 3}, "unknown_value"),
        (fp.OrdinalEncoder, {"dtype": np.int64}, "encoded_missing_value"),
        (
            fp.OrdinalEncoder,
            {"handle_unknown": "use_encoded_value", "unknown_value": 0},
            "already the code",
        ),
        (fp.CountEncoder, {"handle_unknown": "ignore"}, "handle_unknown"),
        (fp.CountEncoder, {"normalize": "yes"}, "normalize"),
    ],
)
def test_bad_parameters(cls, params, match):
    with pytest.raises(ParameterError, match=match):
        cls(**params).fit({"c": ["a", "b"]})


def test_explicit_categories_refuse_unseen_values_under_error(backend):
    with pytest.raises(UnknownCategoryError, match="not in the given categories"):
        fp.OneHotEncoder(categories=[["a"]]).fit({"c": ["a", "b"]})
    with pytest.raises(ParameterError, match="repeat"):
        fp.OneHotEncoder(categories=[["a", "a"]]).fit({"c": ["a"]})
    with pytest.raises(ParameterError, match="ascending"):
        fp.OneHotEncoder(categories=[[3, 1]]).fit(np.array([[1], [3]]))
    with pytest.raises(ParameterError, match="last"):
        fp.OneHotEncoder(categories=[[np.nan, "a"]]).fit({"c": ["a"]})


def test_not_fitted_and_width_errors(backend):
    with pytest.raises(NotFittedError):
        fp.OneHotEncoder().transform({"c": ["a"]})
    enc = fp.OneHotEncoder().fit(np.array([["a", "b"]], dtype=object))
    with pytest.raises(SchemaError, match="2"):
        enc.transform(np.array([["a"]], dtype=object))
    with pytest.raises(SchemaError, match="1-D Arrow array"):
        enc.transform(pa.array(["a"]))


def test_sparse_output_without_scipy_says_what_to_install(monkeypatch, backend):
    import sys

    enc = fp.OneHotEncoder().fit({"c": ["a"]})
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match="pip install scipy"):
        enc.transform({"c": ["a"]})
    dense_ = fp.OneHotEncoder(sparse_output=False).fit({"c": ["a"]})
    np.testing.assert_array_equal(dense_.transform({"c": ["a"]}), [[1.0]])


def test_corrupt_buffers_are_refused_by_both_backends():
    bad_offsets = ("utf8", np.array([0, 5], np.int32), np.frombuffer(b"ab", np.uint8), None, 0)
    bad_dict = (
        "dict",
        np.array([0, 3], np.int32),
        None,
        0,
        ("utf8", np.array([0, 1], np.int32), np.frombuffer(b"a", np.uint8), None, 0),
    )
    for chunk in (bad_offsets, bad_dict):
        for backend in available_backends():
            with fp.use_backend(backend), pytest.raises(SchemaError):
                fp._backend.kernels().count_categories([chunk])


def test_get_params_set_params_and_repr():
    enc = fp.OneHotEncoder(drop="first")
    assert enc.get_params()["drop"] == "first"
    assert "drop='first'" in repr(enc)
    enc.set_params(drop=None)
    assert enc.drop is None
    with pytest.raises(ParameterError):
        enc.set_params(nope=1)
    for combo in itertools.product([None, "first"], ["error", "ignore"]):
        params = dict(zip(["drop", "handle_unknown"], combo, strict=True))
        assert fp.OneHotEncoder(**params).get_params()["drop"] == combo[0]


@given(values=columns)
def test_short_object_columns_read_like_pyarrow_reads_them(values, backend):
    """Request-sized object columns are encoded without pyarrow: same values, same missing."""
    from fastprep._input import small_strings as _small_strings
    from fastprep._input import string_chunk as _string_chunk
    from fastprep.reference.encode import decode

    a = _obj(values)[:, 0]
    ours = _small_strings(a)
    assert ours is not None
    arrow = pa.array(a, from_pandas=True)
    if pa.types.is_null(arrow.type):
        assert decode([ours])[1] == [None] * len(values)
    else:
        assert decode([ours]) == decode([_string_chunk(arrow)])
    assert _small_strings(np.array(["a", 1], dtype=object)) is None


def _fresh(v):
    """An equal value that is another object (a str built anew), so that identity and equality
    part ways."""
    return (v + "!")[:-1] if isinstance(v, str) and v else v


@given(
    pool=st.lists(cells, min_size=1, max_size=12),
    picks=st.lists(st.integers(0, 11), min_size=65, max_size=300),
    fresh=st.booleans(),
)
def test_long_object_columns_read_like_pyarrow_reads_them(pool, picks, fresh, backend):
    """Object columns past the request size are read by the Rust core: the same values and
    missing values as pyarrow's, whether their objects repeat (a dictionary chunk) or are
    distinct objects of equal strings."""
    from fastprep._input import string_chunk as _string_chunk
    from fastprep.reference.encode import decode

    core = pytest.importorskip("fastprep._core")
    a = np.empty(len(picks), dtype=object)
    a[:] = [(_fresh if fresh else (lambda v: v))(pool[i % len(pool)]) for i in picks]
    arrow = pa.array(a, from_pandas=True)
    if pa.types.is_null(arrow.type):
        expected = [None] * len(a)
    else:
        expected = decode([_string_chunk(arrow)])[1]
    ours = core.object_strings(a)
    assert ours is not None
    assert decode([ours])[1] == expected
    # A strided column of a 2-D array, and a list, read the same.
    two = np.empty((len(a), 2), dtype=object)
    two[:, 1] = a
    assert decode([core.object_strings(two[:, 1])])[1] == expected
    assert decode([core.object_strings(a.tolist())])[1] == expected


def test_object_columns_of_repeated_objects_become_dictionaries(backend):
    core = pytest.importorskip("fastprep._core")
    words = np.array([f"w{i}" for i in range(50)], dtype=object)
    repeated = words[np.arange(100_000) % 50]
    chunk = core.object_strings(repeated)
    assert chunk[0] == "dict" and len(chunk[4][1]) == 51  # 50 entries, 51 offsets
    identifiers = np.array([f"id{i}" for i in range(100_000)], dtype=object)
    assert core.object_strings(identifiers)[0] == "utf8"
    for bad in ([1] * 70, ["a"] * 70 + [b"b"], ["a"] * 70 + [np.float32("nan")], ["\ud800"] * 70):
        a = np.empty(len(bad), dtype=object)
        a[:] = bad
        assert core.object_strings(a) is None, bad[-1]


@pytest.mark.filterwarnings("ignore:.*unknown categories")
def test_long_object_columns_encode_as_their_arrow_table_does(backend):
    rng = np.random.default_rng(3)
    vocab = np.array(
        ["a", "b", "ä", "", "日本", None, float("nan")] + [f"x{i}" for i in range(20)], dtype=object
    )
    X = np.stack([vocab[rng.integers(0, len(vocab), 5_000)] for _ in range(4)], axis=1)
    X[:, 2] = [_fresh(v) for v in X[:, 2]]  # distinct objects of equal strings: plain
    X[::10, 3] = [_fresh(v) for v in X[::10, 3]]  # a few: a dictionary with equal entries
    core = pytest.importorskip("fastprep._core")
    kinds = [core.object_strings(np.ascontiguousarray(X[:4000, j]))[0] for j in range(4)]
    assert kinds == ["dict", "dict", "utf8", "dict"]
    table = pa.table({f"x{j}": pa.array(X[:, j], from_pandas=True) for j in range(4)})
    for enc in (
        fp.OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
        fp.OrdinalEncoder(),
        fp.CountEncoder(),
    ):
        a = enc.fit(X[:4000]).transform(X[4000:])
        b = type(enc)(**enc.get_params()).fit(table.slice(0, 4000)).transform(table.slice(4000))
        np.testing.assert_array_equal(a, b)
    h = fp.FeatureHasher(n_features=64, input_type="string")
    assert (h.transform(X) != h.transform(table)).nnz == 0
    lists = {f"x{j}": X[:, j].tolist() for j in range(4)}
    enc = fp.OrdinalEncoder().fit(table)
    np.testing.assert_array_equal(enc.transform(lists), enc.transform(table))


def test_long_object_columns_of_other_values_get_the_same_errors(backend):
    for column, match in (
        (["a"] * 70 + [1], r"mixed types in one column \(int, str\)"),
        (["a"] * 70 + [object()], "mixed types|neither strings nor numbers"),
        (["a"] * 70 + ["\ud800"], "not valid Unicode"),
    ):
        with pytest.raises(DataError, match=match):
            fp.OrdinalEncoder().fit(_obj(column))
    np.testing.assert_array_equal(
        fp.OrdinalEncoder().fit(_obj(list(range(70)))).transform(_obj([3, 69])), [[3], [69]]
    )
    # Long lists take the same paths: a list of str, of numbers, of mixed values, of lists.
    fitted = fp.OrdinalEncoder().fit({"c": ["b", "a"] * 40})
    np.testing.assert_array_equal(fitted.transform({"c": ["a"] * 70})[:2], [[0], [0]])
    assert fp.OrdinalEncoder().fit({"c": list(range(70))}).categories_[0].dtype.kind == "i"
    with pytest.raises(DataError, match=r"mixed types in one column \(int, str\)"):
        fp.OrdinalEncoder().fit({"c": ["a"] * 70 + [1]})
    with pytest.raises(SchemaError, match="1-D"):
        fp.OrdinalEncoder().fit({"c": [["a", "b"]] * 70})


# -- Vocabularies shared with an artifact's memory ----------------------------------------------


def _codes(index, words: list[str]) -> list[int]:
    data = "".join(words).encode()
    offsets = np.cumsum([0] + [len(w.encode()) for w in words], dtype=np.int64)
    chunk = ("utf8", offsets, np.frombuffer(data, dtype=np.uint8), None, 0)
    codes, _, _ = fp._backend.kernels().lookup_codes([index], [[chunk]], len(words))
    return codes[0].tolist()


@pytest.mark.parametrize("writable", [True, False])
@pytest.mark.parametrize("n", [3, 10_000])
def test_an_index_copies_a_vocabulary_that_could_change_and_shares_one_that_cannot(writable, n):
    """A large frozen vocabulary (read-only all the way to bytes or a read-only mmap, as an
    artifact's arrays are) is shared by the Rust table, which keeps a reference to it; anything
    else is copied (a small one too: 24 bytes cost less to copy than to ask about), so that
    changing it afterwards changes nothing."""
    words = [f"w{i:07d}" for i in range(n)]
    raw = "".join(words).encode()
    values = np.frombuffer(bytearray(raw) if writable else raw, dtype=np.uint8)
    offsets = np.arange(0, 8 * n + 1, 8, dtype=np.int64)
    queries = [words[0], words[-1], "absent"]
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            before = sys.getrefcount(values)
            index = fp._backend.kernels().CategoryIndex("str", values, offsets)
            shared = sys.getrefcount(values) - before
            assert shared == (1 if backend == "rust" and not writable and n > 3 else 0)
            if writable:
                values[:8] = np.frombuffer(b"zzzzzzzz", dtype=np.uint8)
            assert _codes(index, queries) == [0, n - 1, n + 1]
            if writable:
                values[:8] = np.frombuffer(words[0].encode(), dtype=np.uint8)
            del index
            assert sys.getrefcount(values) == before


def test_a_loaded_vocabulary_outlives_the_bytes_and_the_file_it_views(tmp_path, backend):
    """A loaded encoder's vocabulary views the artifact's memory: it stays valid when the
    caller drops the bytes, and when the file is replaced (by rename, as save does)."""
    words = np.array([f"word-{i:06d}" for i in range(300_000)], dtype=object)
    queries = {"c": np.concatenate([words[::997], ["absent", "word-9"]]).astype(object)}
    enc = fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    enc.fit({"c": words})
    expected = enc.transform(queries)
    data = fp.dumps(enc)
    from_bytes = fp.loads(data)
    del data
    path = tmp_path / "enc.fpa"
    enc.save(path)
    from_file = fp.load(path)
    values = from_file._columns[0].vocab[1]
    assert values.nbytes > 1 << 20 and not values.flags.writeable  # a view of the mapping
    with pytest.raises((TypeError, ValueError)):
        values.flags.writeable = True
    fp.OrdinalEncoder().fit({"c": ["other"]}).save(path)
    gc.collect()
    for loaded in (from_bytes, from_file):
        assert np.array_equal(loaded.transform(queries), expected)
