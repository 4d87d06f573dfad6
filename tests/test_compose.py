"""Pipeline and ColumnTransformer: scikit-learn's outputs and names on Adult, request rows equal
to the batch path, every input type, Python-only steps, and bad input."""

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep.datasets import load_adult
from fastprep.exceptions import NotFittedError, ParameterError, SchemaError, UnknownCategoryError

from .helpers import CAT, NUM, Optional, dense, ours, theirs

skc = Optional("sklearn.compose")
ski = Optional("sklearn.impute")
skpl = Optional("sklearn.pipeline")
skp = Optional("sklearn.preprocessing")


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    return pa.table({c: table[c] for c in NUM + CAT})


def test_adult_pipeline_with_categorical_imputation_equals_sklearn(adult, backend):
    """The issue's pipeline: numeric impute + scale; categorical impute + one-hot. Same outputs
    and the same feature names as scikit-learn's."""
    import polars as pl

    def make(lib, imputer_kw):
        categorical = [
            ("impute", lib[0](strategy="most_frequent", **imputer_kw)),
            ("onehot", lib[1](handle_unknown="ignore", sparse_output=False)),
        ]
        numeric = [("impute", lib[0](strategy="median")), ("scale", lib[2]())]
        return lib[3]([("num", lib[4](numeric), NUM), ("cat", lib[4](categorical), CAT)])

    a = make(
        (fp.SimpleImputer, fp.OneHotEncoder, fp.StandardScaler, fp.ColumnTransformer, fp.Pipeline),
        {},
    ).fit(adult)
    b = make(
        (
            ski.SimpleImputer,
            skp.OneHotEncoder,
            skp.StandardScaler,
            skc.ColumnTransformer,
            skpl.Pipeline,
        ),
        {"missing_values": None},
    ).fit(pl.from_arrow(adult))
    np.testing.assert_allclose(
        a.transform(adult), b.transform(pl.from_arrow(adult)), rtol=1e-10, atol=1e-12
    )
    assert list(a.get_feature_names_out()) == list(b.get_feature_names_out())


@pytest.mark.parametrize("sparse", [False, True])
def test_adult_pipeline_equals_sklearn(adult, sparse, backend):
    import polars as pl

    frame = pl.from_arrow(adult)
    a = ours(sparse).fit(adult)
    b = theirs(sparse).fit(frame)
    ya, yb = a.transform(adult), b.transform(frame)
    assert hasattr(ya, "toarray") == hasattr(yb, "toarray")
    np.testing.assert_allclose(dense(ya), dense(yb), rtol=1e-10, atol=1e-12)
    # scikit-learn names the missing category after the value it saw: polars' null is None.
    names_b = [n.replace("_None", "_nan") for n in b.get_feature_names_out()]
    assert list(a.get_feature_names_out()) == names_b
    assert a.output_indices_ == b.output_indices_
    assert a.n_features_in_ == b.n_features_in_
    assert list(a.feature_names_in_) == list(b.feature_names_in_)


def test_request_rows_equal_the_batch_for_every_adult_row(adult, backend):
    ct = ours().fit(adult)
    batch = ct.transform(adult)
    rows = adult.to_pylist()
    np.testing.assert_array_equal(ct.transform_records(rows), batch, strict=True)
    for i, row in enumerate(rows):
        got = ct.transform_one(row)
        assert got.shape == (batch.shape[1],)
        if not np.array_equal(got, batch[i]):
            raise AssertionError(f"row {i}: transform_one differs from transform")
    one32 = ct.transform_one(rows[0], dtype=np.float32)
    assert one32.dtype == np.float32
    np.testing.assert_array_equal(one32, batch[0].astype(np.float32))


def test_request_rows_of_a_sparse_output_are_dense_rows(adult, backend):
    """transform_one is 1-D and transform_records 2-D whatever the batch output's kind: the
    sparse one's rows, densified."""
    ct = ours(True).fit(adult)
    rows = adult.slice(0, 50).to_pylist()
    batch = ct.transform(adult.slice(0, 50))
    assert hasattr(batch, "toarray")
    np.testing.assert_array_equal(dense(ct.transform_records(rows)), batch.toarray())
    for i in (0, 17, 49):
        got = ct.transform_one(rows[i])
        assert isinstance(got, np.ndarray) and got.shape == (batch.shape[1],)
        np.testing.assert_array_equal(got, batch[[i]].toarray()[0])


def test_every_input_type_gives_the_same_result(adult, backend):
    import polars as pl

    ct = ours().fit(adult)
    expected = ct.transform(adult)
    as_numpy = {n: adult.column(n).to_numpy(zero_copy_only=False) for n in adult.schema.names}

    class Stream:
        def __arrow_c_stream__(self, requested_schema=None):
            return adult.__arrow_c_stream__(requested_schema)

    inputs = {
        "dict of NumPy": as_numpy,
        "dict of lists": {n: adult.column(n).to_pylist() for n in adult.schema.names},
        "RecordBatch": adult.combine_chunks().to_batches()[0],
        "chunked Table": pa.concat_tables([adult.slice(0, 1000), adult.slice(1000)]),
        "polars": pl.from_arrow(adult),
        "Arrow stream": Stream(),
        "dictionary-encoded": pa.table(
            {
                n: adult.column(n).dictionary_encode() if n in CAT else adult.column(n)
                for n in adult.schema.names
            }
        ),
    }
    for what, data in inputs.items():
        np.testing.assert_array_equal(ct.transform(data), expected, err_msg=what)
        np.testing.assert_array_equal(ours().fit(data).transform(adult), expected, err_msg=what)


def test_positional_numpy_input_selects_columns_by_position(adult, backend):
    X = np.column_stack(
        [adult.column(n).to_numpy(zero_copy_only=False).astype(object) for n in adult.schema.names]
    )
    positions_num = list(range(len(NUM)))
    positions_cat = list(range(len(NUM), len(NUM) + len(CAT)))
    ct = fp.ColumnTransformer(
        [
            ("num", fp.StandardScaler(), positions_num),
            ("cat", fp.OrdinalEncoder(), positions_cat),
        ]
    ).fit(X)
    named = fp.ColumnTransformer(
        [("num", fp.StandardScaler(), NUM), ("cat", fp.OrdinalEncoder(), CAT)]
    ).fit(adult)
    np.testing.assert_array_equal(ct.transform(X), named.transform(adult))
    assert ct.get_feature_names_out()[0] == "num__x0"


def test_float32_output_is_rounded_once(adult, backend):
    ct = ours().fit(adult)
    np.testing.assert_array_equal(
        ct.transform(adult, dtype=np.float32), ct.transform(adult).astype(np.float32)
    )
    with pytest.raises(ParameterError, match="dtype"):
        ct.transform(adult, dtype=np.int32)


def test_python_only_steps_work_inside(adult, backend):
    ct = fp.ColumnTransformer(
        [
            (
                "log",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer()),
                        (
                            "log1p",
                            skp.FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                        ),
                        ("scale", fp.StandardScaler()),
                    ]
                ),
                ["capital_gain", "age"],
            ),
            ("cat", fp.OneHotEncoder(sparse_output=False), ["race"]),
        ]
    ).fit(adult)
    gain = np.log1p(adult.column("capital_gain").to_numpy().astype(float))
    got = ct.transform(adult)[:, 0]
    np.testing.assert_allclose(got, (gain - gain.mean()) / gain.std(), rtol=1e-9, atol=1e-12)
    assert list(ct.get_feature_names_out())[:2] == ["log__capital_gain", "log__age"]


def test_remainder_drop_and_verbose_names(adult, backend):
    ct = fp.ColumnTransformer(
        [("scale", fp.StandardScaler(), ["age"]), ("gone", "drop", ["fnlwgt"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    small = adult.select(["age", "fnlwgt", "hours_per_week"])
    out = ct.fit(small).transform(small)
    assert list(ct.get_feature_names_out()) == ["age", "hours_per_week"]
    np.testing.assert_array_equal(out[:, 1], small.column("hours_per_week").to_numpy())
    sk = skc.ColumnTransformer(
        [("scale", skp.StandardScaler(), ["age"]), ("gone", "drop", ["fnlwgt"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    import polars as pl

    np.testing.assert_allclose(out, sk.fit_transform(pl.from_arrow(small)), rtol=1e-12)


def test_partial_fit_equals_fit_when_no_step_feeds_another(adult, backend):
    def make():
        return fp.ColumnTransformer(
            [
                ("scale", fp.StandardScaler(), NUM),
                ("cat", fp.OneHotEncoder(sparse_output=False, min_frequency=30), CAT),
            ]
        )

    whole = make().fit(adult)
    streamed = make()
    for batch in adult.to_batches(max_chunksize=5000):
        streamed.partial_fit(batch)
    np.testing.assert_allclose(
        streamed.transform(adult), whole.transform(adult), rtol=1e-12, atol=1e-12
    )
    assert list(streamed.get_feature_names_out()) == list(whole.get_feature_names_out())


def test_missing_columns_wrong_types_and_unknowns(adult, backend):
    ct = ours(handle_unknown="error").fit(adult)
    with pytest.raises(SchemaError, match="'workclass'"):
        ct.transform(adult.drop_columns(["workclass"]))
    row = adult.slice(0, 1).to_pylist()[0]
    with pytest.raises(
        SchemaError, match=r"^ColumnTransformer: the record lacks the column 'age'$"
    ):
        ct.transform_one({k: v for k, v in row.items() if k != "age"})
    # Every missing key at once, from one row and from a list of records.
    lacking = {k: v for k, v in row.items() if k not in ("age", "race", "sex")}
    with pytest.raises(SchemaError, match=r"lacks the columns 'age', 'race', 'sex'$"):
        ct.transform_one(lacking)
    with pytest.raises(SchemaError, match=r"record 1 lacks the columns 'age', 'race', 'sex'$"):
        ct.transform_records([row, lacking])
    with pytest.raises(SchemaError, match="'age'"):
        ct.transform_one({**row, "age": "forty"})
    with pytest.raises(UnknownCategoryError, match=r"'race'.*'Martian'"):
        ct.transform_one({**row, "race": "Martian"})
    ignore = ours().fit(adult)
    np.testing.assert_array_equal(
        ignore.transform_one({**row, "extra": 1}), ignore.transform_one(row)
    )
    missing = ignore.transform_one({**row, "age": None, "workclass": None})
    assert np.isfinite(missing).all()  # imputed age; workclass_nan column set
    with pytest.raises(NotFittedError):
        ours().transform(adult)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="used twice"):
        fp.ColumnTransformer(
            [("a", fp.StandardScaler(), ["x"]), ("a", fp.StandardScaler(), ["y"])]
        ).fit({"x": [1.0], "y": [2.0]})
    with pytest.raises(ParameterError, match="remainder"):
        fp.ColumnTransformer([], remainder="keep").fit({"x": [1.0]})
    with pytest.raises(ParameterError, match="fit/transform"):
        fp.Pipeline([("a", object())]).fit(np.zeros((2, 1)))
    with pytest.raises(ParameterError, match="non-empty"):
        fp.Pipeline([]).fit(np.zeros((2, 1)))


def test_params_round_trip():
    pipe = fp.Pipeline([("scale", fp.StandardScaler())])
    pipe.set_params(scale__with_mean=False)
    assert pipe.get_params()["scale__with_mean"] is False
    ct = fp.ColumnTransformer([("s", fp.StandardScaler(), ["x"])])
    ct.set_params(s__with_std=False, remainder="passthrough")
    assert ct.get_params()["s__with_std"] is False and ct.remainder == "passthrough"


def test_errors_name_the_step_path_and_the_column(adult, backend):
    ct = fp.ColumnTransformer(
        [
            ("num", fp.Pipeline([("impute", fp.SimpleImputer()),
                                 ("scale", fp.StandardScaler())]), ["age", "hours_per_week"]),
            ("cat", fp.OneHotEncoder(sparse_output=False), ["race"]),
        ]
    ).fit(adult)  # fmt: skip
    row = {"age": 39, "hours_per_week": 40, "race": "White"}
    with pytest.raises(SchemaError, match=r"^in ColumnTransformer step 'num': .*'age'.*'forty'"):
        ct.transform_one({**row, "age": "forty"})
    with pytest.raises(
        UnknownCategoryError, match=r"^in ColumnTransformer step 'cat': .*'race'.*'Martian'"
    ):
        ct.transform_one({**row, "race": "Martian"})
    power = fp.PowerTransformer(method="box-cox")
    nested = fp.Pipeline([("outer", fp.Pipeline([("power", power)]))]).fit(np.eye(3) + 1.0)
    with pytest.raises(
        fp.DataError, match=r"^in Pipeline step 'outer': in Pipeline step 'power': .*column 0"
    ):
        nested.transform(-np.eye(3))
