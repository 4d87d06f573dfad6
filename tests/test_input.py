"""Input reading (``fastprep._input``): one table reader and one column labeller for every
input, and the request paths agreeing with the batch path on every value, the ones they refuse
included."""

import decimal
import fractions
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep._input import Frame, categorical_column, column_label, float_column


def _transformer():
    ct = fp.ColumnTransformer(
        [
            ("num", fp.StandardScaler(), ["x"]),
            ("str", fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
             ["s"]),
            ("int", fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["k"]),
        ]
    )  # fmt: skip
    return ct.fit({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "a"], "k": [1, 2, 3]})


def _outcome(call):
    """What a call gives: its output's bits (NaN as NaN), or its error's class and message."""
    try:
        out = np.asarray(call(), dtype=np.float64).ravel()
    except Exception as exc:  # compared across paths: the same class and message
        return type(exc), str(exc).split(": ", 1)[-1]
    return "ok", [("nan" if v != v else float(v)) for v in out.tolist()]


VALUES = {
    "float": 1.5,
    "int": 2,
    "bool": True,
    "None": None,
    "NaN": float("nan"),
    "str": "a",
    "empty str": "",
    "np.float32": np.float32(1.5),
    "np.int64": np.int64(2),
    "Fraction": fractions.Fraction(3, 2),
    "Decimal": decimal.Decimal("1.5"),
    "2**70": 2**70,
    "10**400": 10**400,
    "-2**63 - 1": -(2**63) - 1,
    "datetime64": np.datetime64("2020-01-01"),
    "0-d float array": np.array(1.5),
    "0-d str array": np.array("a"),
    "bytes": b"a",
    "list": [1],
    "complex": 1j,
}


@pytest.mark.parametrize("column", ["x", "s", "k"])
@pytest.mark.parametrize("name", list(VALUES))
def test_every_request_path_gives_the_batch_answer_or_its_error(column, name, backend):
    """transform_one, transform_records and a batch (a dict of lists) accept the same values
    with the same result and refuse the others with the same fastprep error."""
    ct = _transformer()
    row = {"x": 1.5, "s": "a", "k": 2, column: VALUES[name]}
    one = _outcome(lambda: ct.transform_one(row))
    records = _outcome(lambda: ct.transform_records([row]))
    batch = _outcome(lambda: ct.transform({k: [v] for k, v in row.items()}))
    assert one == records == batch
    if one[0] != "ok":
        assert issubclass(one[0], fp.FastprepError), one


def test_a_request_of_missing_values_only_is_missing_in_every_column_kind(backend):
    ct = _transformer()
    row = {"x": None, "s": None, "k": None}
    expected = ct.transform({"x": [np.nan], "s": pa.array([None], pa.string()),
                             "k": pa.array([None], pa.int64())})  # fmt: skip
    np.testing.assert_array_equal(ct.transform_one(row), expected[0])
    np.testing.assert_array_equal(ct.transform_records([row, row]), np.vstack([expected] * 2))
    np.testing.assert_array_equal(ct.transform({k: [v] for k, v in row.items()}), expected)


def test_zero_rows_of_every_input_kind_give_zero_rows(backend):
    ct = _transformer()
    empties = [
        {"x": [], "s": [], "k": []},
        {"x": np.empty(0), "s": np.empty(0, dtype=object), "k": np.empty(0, dtype=np.int64)},
        pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string()),
                  "k": pa.array([], pa.int64())}),
    ]  # fmt: skip
    for empty in empties:
        assert ct.transform(empty).shape == (0, ct.transform_one({"x": 1, "s": "a", "k": 1}).size)
    assert ct.transform_records([]).shape[0] == 0


MAKERS = [
    fp.StandardScaler, fp.MinMaxScaler, fp.MaxAbsScaler, fp.RobustScaler, fp.SimpleImputer,
    fp.KBinsDiscretizer, fp.QuantileTransformer, fp.PowerTransformer, fp.Normalizer,
    fp.Binarizer, fp.FunctionTransformer, fp.PolynomialFeatures, fp.SplineTransformer,
    fp.OneHotEncoder,
    fp.OrdinalEncoder, fp.CountEncoder,
    lambda: fp.Pipeline([("s", fp.StandardScaler())]),
    lambda: fp.ColumnTransformer([("s", fp.StandardScaler(), [])]),
]  # fmt: skip


@pytest.mark.parametrize("make", MAKERS)
def test_no_columns_is_an_error_at_fit_and_at_transform(make, backend):
    for empty in (np.empty((3, 0)), np.empty((0, 0)), {}):
        with pytest.raises(fp.FastprepError):
            make().fit(empty)
    fitted = make().fit({"a": [1.0, 2.0, 3.0]} if isinstance(make(), fp.ColumnTransformer)
                        else np.array([[1.0], [2.0], [3.0]]))  # fmt: skip
    with pytest.raises(fp.FastprepError):
        fitted.transform(np.empty((3, 0)))
    with pytest.raises(fp.SchemaError, match=r"0 feature\(s\)"):
        fp.FeatureHasher(8, input_type="string").transform(np.empty((3, 0), dtype=object))


def test_no_kernel_panics_on_no_columns():
    """Every matrix kernel of the core, given rows of no columns: an output or an error,
    and no panic message on stderr."""
    code = (
        "import numpy as np, fastprep as fp\n"
        "k = fp._backend._core\n"
        "for shape in [(3, 0), (0, 0), (0, 3)]:\n"
        "    z, n = np.zeros(shape), shape[1]\n"
        "    calls = [lambda: k.sub_div(z, np.zeros(n), np.ones(n)),\n"
        "             lambda: k.mul_add(z, np.zeros(n), np.ones(n), None),\n"
        "             lambda: k.normalize(z, 'l2'), lambda: k.binarize(z, 0.0),\n"
        "             lambda: k.impute(z, list(range(n)), np.zeros(n), []),\n"
        "             lambda: k.column_stats(z), lambda: k.column_medians(z),\n"
        "             lambda: k.column_quantiles(z, [0.5], 'linear'), lambda: k.column_modes(z),\n"
        "             lambda: k.softmax(z), lambda: k.sigmoid(z), lambda: k.argmax(z),\n"
        "             lambda: k.copy_matrix(z),\n"
        "             lambda: k.power_transform(z, np.ones(n), 'yeo-johnson', np.zeros(n),\n"
        "                                       np.ones(n), False)]\n"
        "    for call in calls:\n"
        "        try:\n"
        "            call()\n"
        "        except fp.FastprepError as exc:\n"
        "            assert 'internal error' not in str(exc), exc\n"
    )
    if fp._backend._core is None:
        pytest.skip("needs the compiled core")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "panicked" not in run.stderr


def test_a_dict_of_lists_is_read_as_it_is():
    """Lists stay lists: numbers are numbers to a numeric step, categories to an encoder
    (integers with None stay integer categories)."""
    frame = Frame.of({"n": [1, None, 3], "s": ["a", None, "b"]}, "owner")
    assert frame.columns["n"] == [1, None, 3] and frame.kinds() == {"n": "numeric", "s": "other"}
    np.testing.assert_array_equal(frame.floats(["n"], "owner")[:, 0], [1.0, np.nan, 3.0])
    column = frame.categorical("n", "owner")
    assert column.kind == "int"
    assert fp.OrdinalEncoder().fit({"n": [1, None, 3]}).categories_[0].dtype.kind in "iO"


def test_one_labeller_names_columns_by_name_or_position():
    assert column_label(1, ["a", "b"]) == "column 'b'"
    assert column_label(3) == "column 3"
    positional = Frame.of(np.array([[1.0, 2.0]]), "owner")
    assert positional.names == ["x0", "x1"] and positional.label("x1") == "column 1"
    with pytest.raises(fp.SchemaError, match="column 'name'"):
        float_column(["a"], "name", "owner")
    with pytest.raises(fp.DataError, match="owner: column 1: mixed types"):
        categorical_column(np.array(["a", 1], dtype=object), "owner: column 1")
    with pytest.raises(fp.DataError, match="OrdinalEncoder: column 1: mixed types"):
        fp.OrdinalEncoder().fit(np.array([["a", "a"], ["b", 1]], dtype=object))


def test_unaligned_data_is_copied_before_the_kernels_read_it(backend):
    """A zero-copy view that does not start on an item boundary (as an Arrow buffer can after
    a network hop, in a Dask partition) is read as its values, not refused."""
    values = np.arange(40.0) * 1.5 - 7.0
    raw = b"\0" + values.tobytes()
    flat = np.frombuffer(raw, dtype=np.float64, offset=1)
    assert not flat.flags.aligned
    matrix = flat.reshape(20, 2)
    expected = fp.StandardScaler().fit_transform(values.reshape(20, 2))
    np.testing.assert_array_equal(fp.StandardScaler().fit_transform(matrix), expected)
    column = pa.Array.from_buffers(pa.float64(), 40, [None, pa.py_buffer(raw).slice(1)])
    ct = fp.ColumnTransformer([("s", fp.StandardScaler(), ["a"])])
    np.testing.assert_array_equal(
        ct.fit_transform(pa.table({"a": column})),
        fp.StandardScaler().fit_transform(values.reshape(-1, 1)),
    )
