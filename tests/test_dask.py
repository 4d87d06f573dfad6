"""Fitting and transforming on Dask, on a two-worker LocalCluster started once for the session:
the fitted state is the in-memory fit's, bit for bit, whatever the partitioning."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp
from fastprep.datasets import adult_pipeline, load_adult
from fastprep.exceptions import ParameterError

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
fpd = pytest.importorskip("fastprep.dask")


@pytest.fixture(scope="session")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def adult():
    return pd.DataFrame(load_adult())


NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.mark.parametrize("partitions", [1, 3, 7])
@pytest.mark.parametrize("split_every", [2, 8])
def test_the_adult_pipeline_fits_to_the_in_memory_fingerprint(
    client, adult, partitions, split_every
):
    expected = adult_pipeline().fit(adult)
    ddf = dd.from_pandas(adult, npartitions=partitions)
    fitted = fpd.fit(adult_pipeline(), ddf, split_every=split_every)
    assert fitted.fingerprint == expected.fingerprint
    # The result goes on fitting, and drifts, as the in-memory one.
    assert fitted.drift_reference_.columns.keys() == expected.drift_reference_.columns.keys()
    np.testing.assert_array_equal(fitted.transform(adult[:500]), expected.transform(adult[:500]))


TRANSFORMS = [
    fp.StandardScaler(),
    fp.MinMaxScaler(),
    fp.MaxAbsScaler(),
    fp.RobustScaler(),
    fp.SimpleImputer(strategy="median"),
    fp.SimpleImputer(strategy="mean"),
    fp.KBinsDiscretizer(n_bins=5, encode="ordinal", strategy="quantile"),
    fp.KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="uniform"),
    fp.QuantileTransformer(n_quantiles=50),
    fp.PowerTransformer(),
    fp.Normalizer(),
    fp.Binarizer(threshold=40.0),
    fp.FunctionTransformer(np.sqrt, feature_names_out="one-to-one"),
    fp.PolynomialFeatures(interaction_only=True),
    fp.SplineTransformer(knots="quantile", handle_missing="zeros"),
]


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: repr(t))
def test_every_numeric_transform_fits_to_the_in_memory_fingerprint(client, adult, transform):
    x = adult[NUMERIC].to_numpy(dtype=np.float64, copy=True)
    x[::17, 2] = np.nan
    frame = pd.DataFrame(x, columns=NUMERIC)
    if isinstance(transform, fp.PowerTransformer):
        frame = frame[["age", "education_num", "hours_per_week"]]
    expected = type(transform)(**transform.get_params()).fit(frame)
    for partitions in (1, 5):
        fitted = fpd.fit(transform, dd.from_pandas(frame, npartitions=partitions))
        assert fitted.fingerprint == expected.fingerprint, partitions
    assert not transform.is_fitted  # the argument stays as it was


@pytest.mark.parametrize(
    "encoder",
    [
        fp.OneHotEncoder(),
        fp.OrdinalEncoder(),
        fp.CountEncoder(),
        fp.SimpleImputer(strategy="most_frequent"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_encoders_fit_to_the_in_memory_fingerprint(client, adult, encoder):
    frame = adult[["workclass", "education", "native_country"]]
    expected = type(encoder)(**encoder.get_params()).fit(frame)
    fitted = fpd.fit(encoder, dd.from_pandas(frame, npartitions=4), split_every=3)
    assert fitted.fingerprint == expected.fingerprint


def test_nested_compositions_fit_stage_by_stage(client, adult):
    """A pipeline inside a ColumnTransformer inside a pipeline: the scaler after the imputer
    and the binning after the scaler wait for the steps they read; a sparse one-hot part
    decides the output's density over all rows."""

    def make():
        numeric = fp.Pipeline([
            ("impute", fp.SimpleImputer(strategy="median")),
            ("scale", fp.StandardScaler()),
            ("bins", fp.KBinsDiscretizer(n_bins=3, encode="ordinal")),
        ])  # fmt: skip
        ct = fp.ColumnTransformer([
            ("num", numeric, NUMERIC),
            ("cat", fp.OneHotEncoder(sparse_output=True), ["workclass", "race"]),
        ], sparse_threshold=0.9)  # fmt: skip
        return fp.Pipeline([("ct", ct), ("scale", fp.MaxAbsScaler())])

    frame = adult.copy()
    frame.loc[::13, "age"] = np.nan
    expected = make().fit(frame)
    fitted = fpd.fit(make(), dd.from_pandas(frame, npartitions=6))
    assert make()._stages() == 5  # 3 numeric steps, the density pass, the MaxAbsScaler
    assert fitted.fingerprint == expected.fingerprint
    assert fitted["ct"].sparse_output_ == expected["ct"].sparse_output_
    out = fitted.transform(frame[:300])
    want = expected.transform(frame[:300])
    np.testing.assert_array_equal(
        out.toarray() if hasattr(out, "toarray") else out,
        want.toarray() if hasattr(want, "toarray") else want,
    )


def test_a_dask_array_fits_too(client):
    x = np.random.default_rng(0).normal(size=(20_000, 4)) * [1, 10, 1e-3, 1e6]
    expected = fp.StandardScaler().fit(x)
    fitted = fpd.fit(fp.StandardScaler(), da.from_array(x, chunks=(3_000, 4)))
    assert fitted.fingerprint == expected.fingerprint


def test_transform_maps_the_answers_over_the_partitions(client, adult):
    fitted = adult_pipeline().fit(adult)
    ddf = dd.from_pandas(adult, npartitions=5)
    out = fpd.transform(fitted, ddf)
    assert out.npartitions == 5
    assert list(out.columns) == list(fitted.get_feature_names_out())
    got = out.compute()
    np.testing.assert_array_equal(got.to_numpy(), fitted.transform(adult))
    assert got.index.equals(adult.index)
    # The fitted state is one key of the graph, whatever the number of partitions.
    artifact = fp.dumps(fitted)
    graph = dict(out.__dask_graph__())
    assert sum(1 for v in graph.values() if isinstance(v, bytes) and v == artifact) <= 1
    held = [k for k, v in graph.items() if _holds(v, artifact)]
    assert len(held) == 1


def _holds(value, artifact: bytes) -> bool:
    if isinstance(value, bytes):
        return value == artifact
    inner = getattr(value, "value", None)
    return isinstance(inner, bytes) and inner == artifact


def test_refusals(client, adult):
    ddf = dd.from_pandas(adult[NUMERIC], npartitions=2)
    with pytest.raises(ParameterError, match="split_every"):
        fpd.fit(fp.StandardScaler(), ddf, split_every=1)
    model = fp.Pipeline([("s", fp.StandardScaler()), ("m", fp.LinearRegressor())])
    with pytest.raises(ParameterError, match="not fitted in parts"):
        fpd.fit(model, ddf)
    y = dd.from_pandas(adult["age"], npartitions=3)
    with pytest.raises(ParameterError, match="partition them alike"):
        fpd.fit(fp.StandardScaler(), ddf, y)
    with pytest.raises(ParameterError, match="cannot be fitted in parts"):
        fpd.fit(fp.Calibrator(), dd.from_pandas(adult[["age"]], npartitions=2),
                dd.from_pandas(adult["age"] > 40, npartitions=2))  # fmt: skip
