"""Benchmark fixtures. Run with ``make bench`` (release build, full size) or ``make bench-quick``
(tiny data, each benchmark once, for CI: they must not rot).

FASTPREP_BENCH_ROWS sets the number of rows (default 1,000,000); every table is 16 columns.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import fastprep as fp
from fastprep._backend import _core

ROWS = int(os.environ.get("FASTPREP_BENCH_ROWS", "1000000"))
COLS = 16
IMPLS = ("rust", "python", "sklearn", "numpy")


def pytest_configure(config):
    if _core is not None and getattr(_core, "DEBUG_BUILD", False):
        warnings.warn("benchmarking a debug build of fastprep._core", stacklevel=1)


@pytest.fixture(scope="session", params=["float64", "float32"])
def table(request):
    """ROWS x 16 of normal data with mixed scales, no NaN."""
    rng = np.random.default_rng(42)
    x = rng.normal(size=(ROWS, COLS)) * np.logspace(-2, 4, COLS) + np.linspace(-50, 50, COLS)
    return x.astype(request.param)


@pytest.fixture(scope="session", params=["float64", "float32"])
def table_with_nan(request):
    """The same table with 5% of cells missing (NaN)."""
    rng = np.random.default_rng(43)
    x = rng.normal(size=(ROWS, COLS)) * np.logspace(-2, 4, COLS)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x.astype(request.param)


def run(benchmark, impl: str, fn, *args):
    """Benchmark ``fn(*args)`` with the fastprep backend ``impl`` in effect (if it is one)."""
    if impl == "rust" and _core is None:
        pytest.skip("fastprep._core is not built")
    if impl in ("rust", "python"):
        with fp.use_backend(impl):
            return benchmark(fn, *args)
    return benchmark(fn, *args)


# -- the serving benchmarks' Adult columns, scikit-learn pipeline and ONNX Runtime session -------

#: The Adult columns a request record carries in the serving benchmarks.
SERVING_NUM = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
SERVING_CAT = ["workclass", "education", "marital_status"]


def serving_frame():
    """Those columns of the bundled Adult data as a DataFrame (numbers as float64), and the
    whole table (for a label)."""
    import pandas as pd

    from fastprep.datasets import load_adult

    table = load_adult()
    frame = pd.DataFrame({c: table[c] for c in SERVING_NUM + SERVING_CAT})
    for c in SERVING_NUM:
        frame[c] = frame[c].astype(np.float64)
    return frame, table


def sklearn_serving_preprocessing():
    """scikit-learn's ColumnTransformer of those columns (unfitted): numbers median-imputed
    then standardized, categories one-hot (unknown ignored, dense)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    return ColumnTransformer(
        [
            ("num", numeric, SERVING_NUM),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), SERVING_CAT),
        ]
    )


def onnx_serving_session(fitted, options=None):
    """``(session, feed)``: ONNX Runtime (one intra-op thread) running skl2onnx's conversion
    of the fitted scikit-learn object, and ``feed(records)`` making its inputs of records
    (one ``[rows, 1]`` tensor per column: float32 numbers, strings)."""
    rt = pytest.importorskip("onnxruntime")
    convert = pytest.importorskip("skl2onnx")
    types = pytest.importorskip("skl2onnx.common.data_types")
    inputs = [(c, types.FloatTensorType([None, 1])) for c in SERVING_NUM]
    inputs += [(c, types.StringTensorType([None, 1])) for c in SERVING_CAT]
    model = convert.convert_sklearn(fitted, initial_types=inputs, target_opset=17, options=options)
    settings = rt.SessionOptions()
    settings.intra_op_num_threads = 1
    session = rt.InferenceSession(model.SerializeToString(), settings)

    def feed(records: list[dict]) -> dict:
        return {
            **{c: np.array([[r[c]] for r in records], dtype=np.float32) for c in SERVING_NUM},
            **{c: np.array([[r[c]] for r in records], dtype=object) for c in SERVING_CAT},
        }

    return session, feed
