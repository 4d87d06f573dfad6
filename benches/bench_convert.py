"""``fastprep.from_sklearn`` on a 100-column scikit-learn pipeline (80 numeric columns: median
impute then standard scale; 20 categorical: one-hot, unknown ignored): the conversion against
skl2onnx's conversion of the same fitted pipeline, and the converted pipeline's transform of
the data against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import ROWS, run

pd = pytest.importorskip("pandas")
skc = pytest.importorskip("sklearn.compose")
ski = pytest.importorskip("sklearn.impute")
skp = pytest.importorskip("sklearn.pipeline")
skpp = pytest.importorskip("sklearn.preprocessing")

NUM = [f"n{j}" for j in range(80)]
CAT = [f"c{j}" for j in range(20)]


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    rows = min(ROWS, 100_000)  # the transform's rows; 100 columns of 1M rows is 800 MB
    frame = pd.DataFrame(rng.normal(size=(rows, len(NUM))), columns=NUM)
    frame.iloc[rng.random(rows) < 0.05, 0] = np.nan
    for c in CAT:
        frame[c] = rng.choice(["a", "b", "c", "d", "e"], rows).astype(object)
    pipe = skc.ColumnTransformer(
        [
            (
                "num",
                skp.make_pipeline(ski.SimpleImputer(strategy="median"), skpp.StandardScaler()),
                NUM,
            ),
            ("cat", skpp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), CAT),
        ]
    ).fit(frame)
    return pipe, frame


@pytest.mark.parametrize("impl", ["fastprep", "skl2onnx"])
def bench_conversion(benchmark, fitted, impl):
    """Converting the fitted scikit-learn pipeline (no data involved)."""
    pipe, _ = fitted
    benchmark.group = "convert: a 100-column pipeline"
    if impl == "skl2onnx":
        convert = pytest.importorskip("skl2onnx")
        types = pytest.importorskip("skl2onnx.common.data_types")
        inputs = [(c, types.FloatTensorType([None, 1])) for c in NUM]
        inputs += [(c, types.StringTensorType([None, 1])) for c in CAT]
        benchmark(lambda: convert.convert_sklearn(pipe, initial_types=inputs, target_opset=17))
    else:
        benchmark(fp.from_sklearn, pipe)


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn"])
def bench_converted_transform(benchmark, fitted, impl):
    """The converted pipeline's transform of the frame, against scikit-learn's own."""
    pipe, frame = fitted
    benchmark.group = "convert: transform of the converted pipeline"
    if impl == "sklearn":
        run(benchmark, impl, pipe.transform, frame)
    else:
        converted = fp.from_sklearn(pipe)
        np.testing.assert_array_equal(
            converted.transform(frame.head(1000)), pipe.transform(frame.head(1000))
        )
        run(benchmark, impl, converted.transform, frame)
