"""FeatureHasher: scikit-learn's hashes exactly, over samples and over table columns."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction import FeatureHasher as SkHasher
from sklearn.utils import murmurhash3_32

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, load_adult
from fastprep.exceptions import DataError, ParameterError, SchemaError
from fastprep.reference.hashing import murmurhash3_32 as reference_murmur
from fastprep.testing import available_backends


@pytest.fixture(scope="module")
def adult_rows():
    table = load_adult()
    X = np.stack([table[c] for c in ADULT_CATEGORICAL], axis=1)
    return X, table


def same_csr(a, b):
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-15, atol=0)


@given(st.binary(max_size=64))
def test_murmur_equals_sklearn(backend, key):
    assert reference_murmur(key) == murmurhash3_32(key, seed=0)


@pytest.mark.parametrize("n_features", [1, 7, 16, 2**20, 2**31 - 1])
@pytest.mark.parametrize("alternate_sign", [True, False])
def test_string_samples_and_table_equal_sklearn_on_adult(
    adult_rows, n_features, alternate_sign, backend
):
    X = adult_rows[0][:6000]  # a fifth of Adult keeps the pure-Python run short
    rows = [[v for v in r if v is not None] for r in X.tolist()]
    expected = SkHasher(n_features, input_type="string", alternate_sign=alternate_sign)
    expected = expected.transform(rows)
    ours = fp.FeatureHasher(n_features, input_type="string", alternate_sign=alternate_sign)
    same_csr(ours.transform(rows), expected)
    same_csr(ours.transform(X), expected)  # the table, read column by column
    same_csr(
        ours.transform(pa.table({c: X[:, j] for j, c in enumerate(ADULT_CATEGORICAL)})), expected
    )


@pytest.mark.parametrize("n_features", [16, 2**20])
@pytest.mark.parametrize("n_columns", [3, 8, 9])
def test_tables_of_many_blocks_equal_sklearn(adult_rows, n_features, n_columns, rust):
    """Adult twice over (65,122 rows): the Rust kernel hashes it in blocks on two threads and
    stitches their rows together; 3, 8 and 9 columns take its three row sorts."""
    X = np.concatenate([adult_rows[0]] * 2)
    X = np.concatenate([X, X[:, :1]], axis=1)[:, :n_columns]  # a ninth, repeated column
    assert len(X) > 2**15  # the kernel's threshold for blocks in parallel
    rows = [[v for v in r if v is not None] for r in X.tolist()]
    expected = SkHasher(n_features, input_type="string").transform(rows)
    table = pa.table({f"c{j}": X[:, j] for j in range(n_columns)})
    threads = fp.get_num_threads()
    fp.set_num_threads(2)
    try:
        ours = fp.FeatureHasher(n_features, input_type="string").transform(table)
    finally:
        fp.set_num_threads(threads)
    same_csr(ours, expected)


def test_dict_and_pair_samples_and_table_equal_sklearn(adult_rows, backend):
    X, table = adult_rows
    names = [*ADULT_CATEGORICAL, "age", "hours_per_week"]
    n = 3000
    dicts = []
    for i in range(n):
        d = {c: X[i, j] for j, c in enumerate(ADULT_CATEGORICAL) if X[i, j] is not None}
        d["age"] = float(table["age"][i])
        d["hours_per_week"] = float(table["hours_per_week"][i])
        dicts.append(d)
    for n_features in (32, 2**18):
        expected = SkHasher(n_features).transform(dicts)
        same_csr(fp.FeatureHasher(n_features).transform(dicts), expected)
        pairs = [list(d.items()) for d in dicts]
        same_csr(
            fp.FeatureHasher(n_features, input_type="pair").transform(pairs),
            SkHasher(n_features, input_type="pair").transform(pairs),
        )
        columns = {c: table[c][:n] for c in names}
        same_csr(fp.FeatureHasher(n_features).transform(columns), expected)


features = st.lists(
    st.tuples(st.text(max_size=12), st.one_of(st.floats(-1e6, 1e6), st.text(max_size=5))),
    max_size=8,
)


@given(
    samples=st.lists(features, max_size=20),
    n_features=st.integers(1, 50),
    alternate_sign=st.booleans(),
)
def test_backends_and_sklearn_agree_on_generated_pairs(samples, n_features, alternate_sign):
    results = []
    for backend in available_backends():
        with fp.use_backend(backend):
            h = fp.FeatureHasher(n_features, input_type="pair", alternate_sign=alternate_sign)
            results.append(h.transform(samples))
    for other in results[1:]:
        np.testing.assert_array_equal(results[0].indptr, other.indptr)
        np.testing.assert_array_equal(results[0].indices, other.indices)
        np.testing.assert_array_equal(results[0].data, other.data)
    if samples:
        expected = SkHasher(n_features, input_type="pair", alternate_sign=alternate_sign)
        expected = expected.transform(samples)
        np.testing.assert_allclose(results[0].toarray(), expected.toarray(), rtol=1e-12, atol=1e-9)


def test_dense_output_and_dtype(backend):
    h = fp.FeatureHasher(8, input_type="string", sparse_output=False, dtype=np.float32)
    out = h.transform([["a", "b", "a"], []])
    expected = SkHasher(8, input_type="string", dtype=np.float32).transform([["a", "b", "a"], []])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected.toarray())


def test_empty_input_gives_an_empty_matrix(backend):
    assert fp.FeatureHasher(4, input_type="string").transform([]).shape == (0, 4)
    assert fp.FeatureHasher(4).transform(pa.table({"a": pa.array([], pa.string())})).shape == (0, 4)


def test_missing_cells_are_skipped_in_tables(backend):
    h = fp.FeatureHasher(16, input_type="string", sparse_output=False)
    with_missing = h.transform(pa.table({"a": ["x", None], "b": [None, "y"]}))
    np.testing.assert_array_equal(with_missing, h.transform([["x"], ["y"]]))


def test_bad_input(backend):
    with pytest.raises(ParameterError, match="n_features"):
        fp.FeatureHasher(0).transform([{"a": 1}])
    with pytest.raises(ParameterError, match="input_type"):
        fp.FeatureHasher(4, input_type="text").transform([["a"]])
    with pytest.raises(SchemaError, match="single string"):
        fp.FeatureHasher(4, input_type="string").transform(["abc"])
    with pytest.raises(DataError, match="feature names must be strings"):
        fp.FeatureHasher(4, input_type="string").transform([[1]])
    with pytest.raises(DataError, match="neither a string nor a number"):
        fp.FeatureHasher(4).transform([{"a": object()}])
    with pytest.raises(DataError, match=r"column 'n'.*'dict'"):
        fp.FeatureHasher(4, input_type="string").transform({"n": np.array([1.0])})
    with pytest.raises(SchemaError, match="pair"):
        fp.FeatureHasher(4, input_type="pair").transform(pa.table({"a": ["x"]}))


def test_stateless_api(backend):
    h = fp.FeatureHasher(4, input_type="string")
    assert h.fit([["a"]]) is h
    assert list(h.get_feature_names_out()) == [f"featurehasher{i}" for i in range(4)]
    assert h.set_params(n_features=8).get_params()["n_features"] == 8


cells = st.one_of(st.none(), st.text(max_size=15), st.sampled_from(["", "a", "é", "x" * 40]))


@given(
    rows=st.lists(st.tuples(cells, cells), max_size=30),
    n_features=st.integers(1, 64),
    mode=st.sampled_from(["string", "dict"]),
)
def test_backends_and_sklearn_agree_on_generated_tables(rows, n_features, mode):
    table = pa.table(
        {
            "a": pa.array([r[0] for r in rows], pa.string()),
            "b": pa.array([r[1] for r in rows], pa.large_string()).cast(pa.string_view()),
        }
    )
    results = []
    for backend in available_backends():
        with fp.use_backend(backend):
            results.append(fp.FeatureHasher(n_features, input_type=mode).transform(table))
    for other in results[1:]:
        np.testing.assert_array_equal(results[0].indptr, other.indptr)
        np.testing.assert_array_equal(results[0].indices, other.indices)
        np.testing.assert_array_equal(results[0].data, other.data)
    if rows:
        if mode == "string":
            samples = [[v for v in r if v is not None] for r in rows]
        else:
            samples = [{k: v for k, v in zip("ab", r, strict=True) if v is not None} for r in rows]
        expected = SkHasher(n_features, input_type=mode).transform(samples)
        np.testing.assert_array_equal(results[0].toarray(), expected.toarray())
