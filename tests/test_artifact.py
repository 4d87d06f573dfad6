"""Artifacts: round trips, the manifest, integrity, versions, validation of the loaded state."""

import json
import os
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep import artifact
from fastprep.accumulators import narrow
from fastprep.artifact import codec, container
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult
from fastprep.reference import artifact as artifact_reference
from fastprep.reference.artifact import DTYPES
from fastprep.reference.artifact import read_artifact as reference_read
from fastprep.testing import bit_identical, close

from .helpers import rewritten

GOLDEN = Path(__file__).parent / "artifacts"
sys.path.insert(0, str(GOLDEN))
from make_golden import goldens  # noqa: E402


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    return pa.table({c: table[c][:3000] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})


def _numeric(adult):
    return np.column_stack([adult.column(c).to_numpy() for c in ADULT_NUMERIC]).astype(float)


def _same(a, b) -> bool:
    if hasattr(a, "toarray"):
        a, b = a.toarray(), b.toarray()
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


NUMERIC = [
    lambda: fp.StandardScaler(),
    lambda: fp.StandardScaler(with_mean=False, with_std=False),
    lambda: fp.MinMaxScaler(feature_range=(-1, 2), clip=True),
    lambda: fp.MaxAbsScaler(),
    lambda: fp.RobustScaler(quantile_range=(10.0, 90.0), unit_variance=True),
    lambda: fp.Normalizer(norm="max"),
    lambda: fp.Binarizer(threshold=3.0),
    lambda: fp.FunctionTransformer(
        np.clip, kw_args={"a_min": 20.0, "a_max": None}, feature_names_out="one-to-one"
    ),
    lambda: fp.FunctionTransformer(np.log1p, np.expm1, feature_names_out="one-to-one"),
    lambda: fp.PolynomialFeatures((2, 3), include_bias=False),
    lambda: fp.SplineTransformer(extrapolation="linear", handle_missing="zeros"),
    lambda: fp.SplineTransformer(n_knots=7, degree=2, extrapolation="periodic"),
    lambda: fp.SimpleImputer(strategy="median", add_indicator=True),
    lambda: fp.SimpleImputer(strategy="constant", fill_value=-1.0),
    lambda: fp.KBinsDiscretizer(n_bins=[3, 4, 5, 2, 2, 6], strategy="quantile"),
    lambda: fp.KBinsDiscretizer(n_bins=4, encode="onehot-dense", strategy="uniform"),
    lambda: fp.QuantileTransformer(n_quantiles=40, output_distribution="normal"),
    lambda: fp.PowerTransformer(method="yeo-johnson"),
    lambda: fp.PowerTransformer(method="box-cox", standardize=False),
]


@pytest.mark.filterwarnings("ignore:.*bins narrower")
@pytest.mark.parametrize("make", NUMERIC, ids=lambda m: repr(m()))
def test_numeric_round_trip(tmp_path, adult, make, backend):
    x = _numeric(adult)
    if "box-cox" in repr(make()):
        x = np.abs(x) + 1.0
    elif "Imputer" in repr(make()):
        x = x.copy()
        x[::7, 2] = np.nan
    obj = make().fit(x)
    obj.save(tmp_path / "a.fpa")
    back = fp.load(tmp_path / "a.fpa")
    assert type(back) is type(obj)
    assert back.fingerprint == obj.fingerprint
    assert back.get_params() == obj.get_params() or repr(back) == repr(obj)
    for data in (x, x[:1], x[:0], x.astype(np.float32)):
        assert _same(back.transform(data), obj.transform(data))
    assert back.get_feature_names_out().tolist() == obj.get_feature_names_out().tolist()
    invertible = "KBins" not in repr(obj) and getattr(obj, "add_indicator", True)
    if hasattr(obj, "inverse_transform") and invertible:
        y = obj.transform(x)
        assert _same(back.inverse_transform(y), obj.inverse_transform(y))


def _encoders():
    return [
        fp.OneHotEncoder(),
        fp.OneHotEncoder(drop="first", sparse_output=False, dtype=np.float32),
        fp.OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=30),
        fp.OneHotEncoder(handle_unknown="ignore", max_categories=4, drop="if_binary"),
        fp.OrdinalEncoder(),
        fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, max_categories=5),
        fp.CountEncoder(normalize=True),
        fp.CountEncoder(handle_unknown="error"),
    ]


@pytest.mark.parametrize("index", range(8))
def test_encoder_round_trip(tmp_path, adult, index, backend):
    obj = _encoders()[index]
    columns = ["workclass", "race", "native_country", "sex"]
    fit = adult.select(columns)
    obj.fit(fit)
    obj.save(tmp_path / "e.fpa", metadata={"run": index})
    back = fp.load(tmp_path / "e.fpa")
    assert back.fingerprint == obj.fingerprint
    assert [list(map(str, c)) for c in back.categories_] == [
        list(map(str, c)) for c in obj.categories_
    ]
    assert _same(back.transform(fit), obj.transform(fit))
    assert back.get_feature_names_out().tolist() == obj.get_feature_names_out().tolist()
    # An encoder's counts are its whole fit: a loaded one goes on fitting like the original.
    more = adult.select(columns).slice(0, 500)
    assert back.partial_fit(more).fingerprint == obj.partial_fit(more).fingerprint


def _known(values) -> list:
    return sorted({v for v in values if v is not None and v == v})


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 2, 7, -3],
        [True, False, True],
        [0.5, np.nan, -np.inf, 0.5, 2.0],
        ["é", "", "x" * 300, None, "日本"],
    ],
    ids=["int", "bool", "float", "str"],
)
def test_encoder_kinds_and_explicit_categories(tmp_path, values, backend):
    data = {"c": values}
    for obj in (
        fp.OrdinalEncoder().fit(data),
        fp.OneHotEncoder(categories=[_known(values)], handle_unknown="ignore").fit(data),
    ):
        obj.save(tmp_path / "k.fpa")
        back = fp.load(tmp_path / "k.fpa")
        assert back.fingerprint == obj.fingerprint
        assert _same(back.transform(data), obj.transform(data))


def test_string_imputer_and_hasher_round_trip(tmp_path, adult, backend):
    imp = fp.SimpleImputer(strategy="most_frequent").fit(adult.select(["occupation"]))
    imp.save(tmp_path / "i.fpa")
    back = fp.load(tmp_path / "i.fpa")
    assert back.fingerprint == imp.fingerprint
    data = adult.select(["occupation"])
    assert back.transform(data).tolist() == imp.transform(data).tolist()
    hasher = fp.FeatureHasher(n_features=64, input_type="string", alternate_sign=False)
    hasher.save(tmp_path / "h.fpa")
    again = fp.load(tmp_path / "h.fpa")
    rows = [["a", "b"], ["c"]]
    assert again.fingerprint == hasher.fingerprint
    assert _same(again.transform(rows), hasher.transform(rows))


def test_pipelines_round_trip(tmp_path, adult, backend):
    rows = adult.slice(0, 5).to_pylist()
    for name, (obj, data, metadata) in goldens().items():
        obj.save(tmp_path / f"{name}.fpa", metadata=metadata)
        back = fp.load(tmp_path / f"{name}.fpa")
        assert back.fingerprint == obj.fingerprint, name
        assert _same(back.transform(data), obj.transform(data)), name
        assert back.get_feature_names_out().tolist() == obj.get_feature_names_out().tolist()
        if isinstance(obj, fp.ColumnTransformer):
            assert (back._plan is None) == (obj._plan is None)
            for row in rows:
                assert _same(back.transform_one(row), obj.transform_one(row))
    sparse = fp.ColumnTransformer(
        [("s", fp.StandardScaler(), ["age"]), ("o", fp.OneHotEncoder(), ["native_country"])],
        remainder="passthrough",
        sparse_threshold=0.9,
    ).fit(adult.select(["age", "native_country", "hours_per_week"]))
    sparse.save(tmp_path / "sparse.fpa")
    back = fp.load(tmp_path / "sparse.fpa")
    assert back.sparse_output_ and _same(back.transform(adult), sparse.transform(adult))
    assert back.transformers[-1][0] == "o" and back.transformers_[-1][0] == "remainder"


def test_manifest_and_inspect(tmp_path, adult, backend):
    ct = adult_pipeline().fit(adult)
    meta = {"model": "income", "model_version": "3.1", "run_id": "r-42", "tags": ["a", 1, None]}
    path = ct.save(tmp_path / "adult.fpa", metadata=meta)
    info = fp.inspect(path)
    assert info["format_version"] == artifact.FORMAT_VERSION
    assert info["min_reader_version"] <= artifact.FORMAT_VERSION
    assert info["fastprep_version"] == fp.__version__
    assert info["fingerprint"] == ct.fingerprint
    assert info["metadata"] == meta
    assert info["kind"] == "ColumnTransformer"
    assert [c["name"] for c in info["inputs"]] == list(ADULT_NUMERIC + ADULT_CATEGORICAL)
    assert {c["type"] for c in info["inputs"]} == {"numeric", "categorical"}
    assert info["outputs"] == len(ct.get_feature_names_out())
    profile = info["profile"]
    assert profile["rows"] == adult.num_rows
    age = profile["columns"]["age"]
    values = adult.column("age").to_numpy()
    assert age["count"] == values.size and age["min"] == values.min()
    assert age["mean"] == pytest.approx(values.mean(), rel=1e-12)
    work = profile["columns"]["workclass"]
    assert work["missing"] == adult.column("workclass").null_count
    assert work["most_frequent"][0][0] == "Private"
    assert info["size"] == os.path.getsize(path)
    assert all(set(a) == {"name", "dtype", "shape"} for a in info["arrays"])
    # A saved artifact is world-readable like any file (not mkstemp's 0600) and alone in its
    # directory: no temporary file is left behind.
    assert os.stat(path).st_mode & 0o044 == 0o044 or os.umask(0o022) & 0o044
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adult.fpa"]
    # A loaded object re-saved keeps its profile.
    fp.load(path).save(tmp_path / "again.fpa", metadata=meta)
    assert fp.inspect(tmp_path / "again.fpa")["profile"] == profile


def _references(value) -> list[str]:
    """The array names a manifest value refers to."""
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    if not isinstance(value, dict):
        return []
    own = [value[k] for k in ("$array", "$strings") if k in value]
    own += [value[k] for k in ("offsets", "missing") if "$strings" in value and k in value]
    return own + [r for v in value.values() for r in _references(v)]


def test_equal_arrays_are_stored_once(tmp_path, adult, backend):
    """The string imputer holds the encoder's vocabulary, and names repeat across steps: each
    array is stored once and referenced wherever it is held (format 4)."""
    ct = adult_pipeline().fit(adult)
    path = ct.save(tmp_path / "adult.fpa")
    info = fp.inspect(path)
    stored = [a["name"] for a in info["arrays"]]
    referenced = _references(info["root"]) + _references(info["plan"])
    assert set(referenced) <= set(stored)
    assert len(referenced) > len(set(referenced))  # some arrays are shared
    cat = info["root"]["parts"][1]["node"]["parts"]
    imputed, encoded = (p["node"]["state"]["counts"]["columns"] for p in cat)
    assert [c["values"] for c in imputed] == [c["values"] for c in encoded]
    # Equal bytes of another dtype or shape stay apart.
    writer = codec.Writer()
    names = {
        writer.tensor("a", np.array([1, 2], np.int64)),
        writer.tensor("b", np.array([1, 2], np.int64)),
        writer.tensor("c", np.array([1, 0, 2, 0], np.int32)),
        writer.tensor("d", np.arange(4, dtype=np.uint8)),
        writer.tensor("e", np.arange(4, dtype=np.uint8).reshape(2, 2)),
    }
    assert names == {"a", "c", "d", "e"}
    back = fp.load(path)
    assert back.fingerprint == ct.fingerprint
    assert _same(back.transform(adult), ct.transform(adult))


def test_dumps_loads_and_a_reproducible_file(tmp_path, adult):
    ct = adult_pipeline().fit(adult)
    data = fp.dumps(ct, metadata={"x": 1})
    assert data == fp.dumps(ct, metadata={"x": 1})  # same state, same bytes
    assert fp.loads(data).fingerprint == ct.fingerprint
    assert fp.loads(memoryview(data)).fingerprint == ct.fingerprint


def test_loaded_numeric_transform_cannot_partial_fit(tmp_path, adult, backend):
    x = _numeric(adult)
    fp.StandardScaler().fit(x).save(tmp_path / "s.fpa")
    back = fp.load(tmp_path / "s.fpa")
    before = back.fingerprint
    with pytest.raises(fp.ParameterError, match="loaded from an artifact"):
        back.partial_fit(x)
    with pytest.raises(fp.ParameterError, match="loaded from an artifact"):
        back.merge(fp.StandardScaler().fit(x))
    assert back.fingerprint == before
    assert fp.StandardScaler().fit(x).merge(fp.StandardScaler().fit(x)) is not None
    refit = back.fit(x)  # fit starts over: allowed
    assert refit.fingerprint == before


def test_unfitted_and_foreign_objects_are_refused(tmp_path, backend):
    with pytest.raises(fp.NotFittedError):
        fp.StandardScaler().save(tmp_path / "x.fpa")
    odd = fp.StandardScaler().fit([[1.0]])
    odd.with_mean = object()  # set after fit: parameters are stored unchecked, as in sklearn
    with pytest.raises(fp.ArtifactError, match="not data"):
        odd.save(tmp_path / "y")
    with pytest.raises(fp.ArtifactError, match="metadata"):
        fp.StandardScaler().fit([[1.0]]).save(tmp_path / "z", metadata={"x": float("nan")})
    assert not any(tmp_path.iterdir())


# -- the golden files: every format version keeps loading --------------------------------------


GOLDEN_FILES = sorted(GOLDEN.glob("v*/*.fpa"))


def test_there_is_a_golden_set_for_the_current_format(backend):
    assert (GOLDEN / f"v{artifact.FORMAT_VERSION}").is_dir()
    assert len(GOLDEN_FILES) >= 4


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_files_load_and_give_the_same_numbers(path):
    expected = np.load(path.with_suffix("").with_suffix(".expected.npy"), allow_pickle=False)
    obj = fp.load(path)
    name = path.stem
    _, data, metadata = goldens()[name]
    got = np.asarray(obj.transform(data))
    # Written with the NumPy reference: equal bits there; under Rust, the parity contract
    # (transcendental kernels a few ULP apart, before any centring).
    if fp.get_backend() == "python":
        assert bit_identical(got, expected)
    else:
        assert close(got, expected, rtol=1e-14)
    info = fp.inspect(path)
    if info["format_version"] >= 5:
        assert obj.fingerprint == info["fingerprint"]
    else:
        # Formats 1 to 4 recorded the fingerprint's canonical form 1; a loaded state's is of
        # form 2, the one the current format's file of the same fit records.
        assert obj.fingerprint != info["fingerprint"]
        current = GOLDEN / f"v{artifact.FORMAT_VERSION}" / path.name
        assert obj.fingerprint == fp.inspect(current)["fingerprint"]
    assert info["metadata"] == metadata


def test_load_checks_the_kind_asked_for(tmp_path):
    scaler = fp.StandardScaler().fit(np.eye(3))
    data = fp.dumps(scaler)
    assert isinstance(fp.loads(data, fp.StandardScaler), fp.StandardScaler)
    assert isinstance(fp.loads(data, fp.Fitted), fp.StandardScaler)
    with pytest.raises(fp.ArtifactError, match="holds a StandardScaler, not a Pipeline"):
        fp.loads(data, fp.Pipeline)
    scaler.save(tmp_path / "s.fpa")
    with pytest.raises(fp.ArtifactError, match="not a ColumnTransformer"):
        fp.load(tmp_path / "s.fpa", fp.ColumnTransformer)


# -- corrupt, tampered and foreign files --------------------------------------------------------


def _small(version: int = artifact.FORMAT_VERSION) -> bytes:
    return (GOLDEN / f"v{version}" / "standard_scaler.fpa").read_bytes()


#: Every format version's digest is checked.
VERSIONS = [int(p.name[1:]) for p in sorted(GOLDEN.glob("v*"))]


def _refused(data: bytes, match: str | None = None) -> None:
    with pytest.raises(fp.ArtifactError, match=match):
        fp.loads(data)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_truncation_and_trailing_bytes_are_refused(version, backend):
    data = _small(version)
    for cut in range(len(data)):
        _refused(data[:cut])
    _refused(data + b"\0")
    _refused(data + b"garbage garbage")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_flipped_bit_is_refused(version, backend):
    data = bytearray(_small(version))
    for i in range(len(data)):
        for bit in range(8):
            data[i] ^= 1 << bit
            _refused(bytes(data))
            data[i] ^= 1 << bit
    assert fp.loads(bytes(data)) is not None


def test_absurd_header_and_foreign_files(tmp_path, backend):
    data = _small()
    _refused(struct.pack("<Q", 2**64 - 1) + data[8:], "header")
    _refused(struct.pack("<Q", 2**40) + data[8:], "header")
    _refused(b"", "not a fastprep artifact")
    _refused(b"PK\x03\x04 a zip file, not an artifact")
    _refused(pickle.dumps({"a": 1}))
    _refused(b"{}" * 100)
    plain = json.dumps({"t": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}).encode()
    plain += b" " * (-len(plain) % 8)
    _refused(struct.pack("<Q", len(plain)) + plain + b"\0" * 8, "does not name the format")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(fp.ArtifactError):
        fp.load(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        fp.load(tmp_path / "missing")


def test_a_newer_format_is_refused_with_advice_to_upgrade(backend):
    def newer(m, t):
        m["format_version"], m["min_reader_version"] = 7, 7

    _refused(rewritten(_small(), newer), "upgrade fastprep")

    def readable(m, t):
        m["format_version"] = 7  # a newer writer that older readers can still read

    assert fp.loads(rewritten(_small(), readable)) is not None


def test_unknown_kinds_and_attributes_are_refused(backend):
    def kind(m, t):
        m["root"]["kind"] = "os.system"

    _refused(rewritten(_small(), kind), "unknown transform kind")

    def attribute(m, t):
        m["root"]["state"]["transform"] = 1

    _refused(rewritten(_small(), attribute), "no fitted attribute")

    def tag(m, t):
        m["root"]["params"]["with_mean"] = {"$pickle": "x"}

    _refused(rewritten(_small(), tag), "unknown value tag")


def _array_edit(name_part: str, change):
    def edit(m, t):
        hits = [n for n in t if name_part in n]
        assert hits, (name_part, list(t))
        t[hits[0]] = change(t[hits[0]])

    return edit


def test_invalid_state_is_refused(adult, backend):
    x = _numeric(adult)
    scaler = fp.dumps(fp.StandardScaler().fit(x))
    nan_scale = _array_edit("scale_", lambda a: np.where(np.arange(a.size) == 1, np.nan, a))
    _refused(rewritten(scaler, nan_scale), "scale_ holds NaN")
    _refused(rewritten(scaler, _array_edit("scale_", lambda a: a * 0)), "scale_ holds NaN or zero")
    _refused(rewritten(scaler, _array_edit("mean_", lambda a: a[:-1])), "one value per column")

    bins = fp.dumps(fp.KBinsDiscretizer(n_bins=3).fit(x))
    _refused(rewritten(bins, _array_edit("bin_edges_", lambda a: a[::-1].copy())), "not sorted")

    qt = fp.dumps(fp.QuantileTransformer(n_quantiles=10).fit(x))
    _refused(rewritten(qt, _array_edit("quantiles_", lambda a: a[::-1].copy())), "not sorted")

    enc = fp.dumps(fp.OneHotEncoder().fit(adult.select(["race"])))

    def duplicate(m, t):
        values = next(n for n in t if n.endswith(".values"))
        offsets = next(n for n in t if n.endswith(".offsets"))
        o, v = t[offsets], bytes(t[values])
        words = [v[o[i] : o[i + 1]] for i in range(len(o) - 1)]
        words[1] = words[0]
        t[values] = np.frombuffer(b"".join(words), np.uint8).copy()
        t[offsets] = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)

    _refused(rewritten(enc, duplicate), "sorted and distinct")

    pipe = fp.dumps(fp.Pipeline([("a", fp.StandardScaler()), ("b", fp.MinMaxScaler())]).fit(x))

    def unchained(m, t):
        for key in [n for n in t if n.startswith("b/")]:
            if t[key].shape == (6,):
                t[key] = t[key][:5].copy()
        m["root"]["parts"][1]["node"]["state"]["n_features_in_"] = 5

    _refused(rewritten(pipe, unchained), "gives 6 columns but MinMaxScaler takes 5")


@given(st.binary(max_size=2000))
def test_any_bytes_load_or_raise_artifact_error(backend, data):
    try:
        fp.loads(data)
    except fp.ArtifactError:
        pass


@given(st.data())
def test_mutated_artifacts_are_refused_by_both_readers_alike(data):
    raw = bytearray(_small())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    raw = bytes(raw)
    outcomes = []
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            try:
                outcomes.append(fp.loads(raw).fingerprint)
            except fp.ArtifactError:
                outcomes.append("refused")
    assert len(set(outcomes)) == 1
    assert outcomes[0] == "refused" or raw == _small()


def test_the_plan_is_saved_without_a_compiled_core(monkeypatch, adult):
    """A researcher in pure-Python mode saves the same plan a Rust service runs."""
    from fastprep import _backend

    with fp.use_backend("python"):
        with_core = fp.dumps(adult_pipeline().fit(adult))
        with monkeypatch.context() as patch:
            patch.setattr(_backend, "_core", None)
            without = fp.dumps(adult_pipeline().fit(adult))
    assert fp.inspect_bytes(with_core)["plan"]["blocks"]
    assert without == with_core  # the same bytes: plan, state and digest


@pytest.mark.parametrize(
    ("make", "identity"),
    [
        (lambda: fp.OneHotEncoder(handle_unknown="ignore"), True),
        (lambda: fp.OrdinalEncoder(), True),
        (lambda: fp.OneHotEncoder(drop="first"), False),
        (lambda: fp.OneHotEncoder(min_frequency=3, handle_unknown="infrequent_if_exist"), False),
        (lambda: fp.CountEncoder(), False),
    ],
)
def test_the_saved_lookup_tables_are_the_plans_own(make, identity, backend):
    """A table whose codes map to themselves is saved as its size and its last two entries
    (format 3); any other is saved whole. Either way a reader gets the plan's table back."""
    # 50 categories seen 1 to 4 times, and missing values.
    values = [f"c{i:02d}" for i in range(50) for _ in range(1 + i % 4)]
    values = np.array(values + [None] * 3, dtype=object)
    obj = make().fit({"c": values})
    data = fp.dumps(obj)
    text, start, entries = reference_read(data)
    by_name = {e[0]: e for e in entries}

    def tensor(name):
        _, dt, _, b, e = by_name[name]
        return np.frombuffer(data, DTYPES[dt][0], (e - b) // DTYPES[dt][1], start + b)

    (block,) = json.loads(text)["plan"]["blocks"]
    (saved,) = block["tables"]
    (expected,) = obj._plan_tables()
    if identity:
        n = saved["identity"]
        assert n == len(expected) - 2 == 50
        tail = tensor(saved["tail"])
        got = np.concatenate([np.arange(n, dtype=tail.dtype), tail])
    else:
        got = tensor(saved)
    assert got.dtype == (np.int32 if block["block"] == "onehot" else np.float64)
    assert bit_identical(got.astype(np.float64), np.asarray(expected, dtype=np.float64))


@pytest.mark.parametrize(
    ("top", "dtype"),
    [(0, np.uint8), (255, np.uint8), (256, np.uint16), (2**32 - 1, np.uint32), (2**32, np.int64)],
)
def test_category_counts_are_saved_in_the_narrowest_unsigned_type(top, dtype, backend):
    counts = np.array([1, top] if top else [], dtype=np.int64)
    narrowed = narrow(counts)
    assert narrowed.dtype == dtype
    assert np.array_equal(narrowed.astype(np.int64), counts)


def test_narrowed_counts_load_and_go_on_fitting_as_int64(backend):
    """Counts saved narrow (uint16 here) load as they were saved; the encoder gives the same
    outputs, fingerprint and public counts as the fitted one, and fitting on from the loaded
    state gives what one fit over all the rows gives."""
    first = np.array([f"v{i % 7}" for i in range(2_000)], dtype=object)
    more = np.array([f"v{i % 9}" for i in range(500)], dtype=object)
    makers = (
        lambda: fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        lambda: fp.CountEncoder(handle_unknown="value"),
    )
    for make in makers:
        fitted = make().fit({"c": first})
        loaded = fp.loads(fp.dumps(fitted))
        assert loaded.accumulator_.columns[0][3].dtype == np.uint16
        assert loaded.fingerprint == fitted.fingerprint
        assert _same(loaded.transform({"c": more}), fitted.transform({"c": more}))
        if isinstance(fitted, fp.CountEncoder):
            assert loaded.counts_[0].dtype == np.int64
            assert np.array_equal(loaded.counts_[0], fitted.counts_[0])
        loaded.partial_fit({"c": more})
        whole = make().fit({"c": np.concatenate([first, more])})
        assert loaded.fingerprint == whole.fingerprint
        assert loaded.accumulator_.columns[0][3].dtype == np.int64


def test_infrequent_grouping_from_uint8_counts_matches_the_fit(backend):
    """Counts saved as uint8 compared with thresholds beyond uint8 (min_frequency=300) and
    with fractions group the same categories as the fitted encoder."""
    values = np.array([f"v{i % 5}" for i in range(1_000)] + ["rare"] * 3, dtype=object)
    for params in ({"min_frequency": 300}, {"min_frequency": 0.1}, {"max_categories": 3}):
        fitted = fp.OneHotEncoder(handle_unknown="infrequent_if_exist", **params)
        fitted.fit({"c": values})
        loaded = fp.loads(fp.dumps(fitted))
        assert loaded.accumulator_.columns[0][3].dtype == np.uint8
        assert [list(c) for c in loaded.infrequent_categories_] == [
            list(c) for c in fitted.infrequent_categories_
        ]
        assert _same(loaded.transform({"c": values}), fitted.transform({"c": values}))


def test_a_large_artifact_checks_its_digest_while_it_builds(tmp_path, backend):
    """Above 1 MB the digest runs on a second thread: a flipped data bit is still refused, and
    it is the error reported even when building from the corrupt bytes fails too."""
    values = np.array([f"value-{i:06d}" for i in range(60_000)], dtype=object)
    enc = fp.OrdinalEncoder().fit({"c": values})
    data = fp.dumps(enc)
    assert len(data) > container._PARALLEL_DIGEST_BYTES
    assert fp.loads(data).fingerprint == enc.fingerprint
    flipped = bytearray(data)
    flipped[-3] ^= 0x10  # a count or a table value: building succeeds, the digest does not
    with pytest.raises(fp.ArtifactError, match="integrity"):
        fp.loads(bytes(flipped))
    _, start, entries = reference_read(data)
    begin = next(b for n, _, _, b, _ in entries if n.endswith(".values"))
    unsorted = bytearray(data)
    unsorted[start + begin] = ord("z")  # the first category now sorts last: building fails too
    with pytest.raises(fp.ArtifactError, match="integrity"):
        fp.loads(bytes(unsorted))


def test_a_digest_in_pieces_sees_every_piece_on_both_readers():
    """Format 2 digests the data by 1 MiB pieces, on several cores in Rust: an artifact of
    several pieces loads alike on both backends, a flipped byte in any piece is refused by
    both, and the same state sealed with format 1's digest still loads."""
    values = np.array([f"piece-{i:07d}" for i in range(150_000)], dtype=object)
    enc = fp.OrdinalEncoder().fit({"c": values})
    data = fp.dumps(enc)
    manifest, start, _ = reference_read(data)
    assert artifact_reference.digest_version(json.loads(manifest)["min_reader_version"]) == 2
    size = len(data) - start
    assert size > 3 * artifact_reference.CHUNK

    def v1(m, t):
        m["format_version"] = m["min_reader_version"] = 1

    old = rewritten(data, v1)
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            assert fp.loads(data).fingerprint == enc.fingerprint
            assert fp.loads(old).fingerprint == enc.fingerprint
            for at in [0, artifact_reference.CHUNK, size // 2, size - 1]:
                flipped = bytearray(data)
                flipped[start + at] ^= 0x01
                with pytest.raises(fp.ArtifactError, match="integrity"):
                    fp.loads(bytes(flipped))


# -- what a load may and may not do -------------------------------------------------------------


def test_load_reads_regular_files_only(tmp_path, backend):
    """A device or a FIFO is refused at once, never read for ever."""
    with pytest.raises(fp.ArtifactError, match="not a regular file"):
        fp.load("/dev/zero")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(fp.ArtifactError, match="not a regular file"):
        fp.load(fifo)
    with pytest.raises(fp.ArtifactError, match="not a regular file"):
        fp.inspect(fifo)
    with pytest.raises(IsADirectoryError):
        fp.load(tmp_path)


def test_a_loaded_object_does_not_depend_on_its_file(tmp_path, backend):
    """A large artifact (beyond the 1 MiB that used to be memory-mapped) keeps giving its
    answers when its file is rewritten or truncated in place."""
    values = np.array([f"category-{i:07d}" for i in range(120_000)], dtype=object)
    enc = fp.OrdinalEncoder().fit({"c": values})
    path = enc.save(tmp_path / "big.fpa")
    assert path.stat().st_size > 1 << 20
    back = fp.load(path)
    probe = {"c": values[::997]}
    expected = back.transform(probe)
    with open(path, "r+b") as f:
        f.write(b"\xff" * (1 << 20))
    assert bit_identical(back.transform(probe), expected)
    os.truncate(path, 0)
    assert bit_identical(back.transform(probe), expected)
    assert back.fingerprint == enc.fingerprint


@pytest.mark.parametrize("kind", ["bytearray", "memoryview"])
def test_loads_keeps_no_view_of_a_writable_buffer(adult, kind, backend):
    x = _numeric(adult)
    fitted = fp.StandardScaler().fit(x)
    raw = bytearray(fp.dumps(fitted))
    back = fp.loads(raw if kind == "bytearray" else memoryview(raw))
    before = back.transform(x)
    raw[:] = bytes(len(raw))
    assert bit_identical(back.transform(x), before)
    assert back.fingerprint == fitted.fingerprint


def test_manifests_that_nest_too_deep_or_are_not_objects_are_artifact_errors(backend):
    def deep(m, t):
        value: dict = {"$tuple": [1]}
        for _ in range(200):
            value = {"$tuple": [value]}
        m["root"]["params"]["with_mean"] = value

    _refused(rewritten(_small(), deep), "deep|recursion")
    for manifest in ("[1, 2]", '"text"', "3"):
        header = {"__metadata__": {"format": "fastprep-artifact", "manifest": manifest,
                                   "sha256": "0" * 64}}  # fmt: skip
        raw = json.dumps(header).encode()
        raw += b" " * (-(8 + len(raw)) % 8)
        _refused(struct.pack("<Q", len(raw)) + raw)


def test_a_string_dtype_cannot_be_wider_than_its_strings(backend):
    """NumPy strings are saved with the width they need; a wider declared width (which would
    make a small file allocate a large array) is refused."""
    enc = fp.OrdinalEncoder(categories=[np.array(["a", "bb"], dtype="<U40")])
    data = fp.dumps(enc.fit({"c": ["a", "bb"]}))
    back = fp.loads(data)
    assert back.categories[0].dtype == np.dtype("<U2")

    def wide(m, t):
        ref = m["root"]["params"]["categories"][0]
        ref["unicode"] = "<U999999999"

    _refused(rewritten(data, wide), "string dtype")


def test_a_declared_width_costs_nothing_until_used(backend):
    """A stateless step's width is backed by no array: a file may declare a billion columns,
    and its load still allocates what its bytes back (the plan is compiled on first use)."""
    import tracemalloc

    x = np.ones((2, 3))
    pipe = fp.Pipeline([("a", fp.Normalizer()), ("b", fp.Binarizer())]).fit(x)

    def huge(m, t):
        m["root"]["state"]["n_features_in_"] = 10**9
        for part in m["root"]["parts"]:
            part["node"]["state"]["n_features_in_"] = 10**9

    data = rewritten(fp.dumps(pipe), huge)
    tracemalloc.start()
    try:
        back = fp.loads(data)
        assert back._n_features_out() == 10**9
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * len(data) + (1 << 20), peak
    with pytest.raises(fp.SchemaError):
        back.transform(x)


def test_values_are_checked_whatever_they_are_stored_as(adult):
    """A scale written as an object array, as a list, or as null is refused like a float64
    one holding zero or NaN: the check does not depend on how the value was stored."""
    x = _numeric(adult)
    scaler = fp.dumps(fp.StandardScaler().fit(x))
    width = x.shape[1]

    def stored_as(value):
        def edit(m, t):
            m["root"]["state"]["scale_"] = value

        return edit

    zeros = {"$objects": [0.0] * width, "shape": [width]}
    nans = {"$objects": [{"$float": "nan"}] * width, "shape": [width]}
    for value, match in [
        (None, "scale_ must be a float64 array"),
        (zeros, "scale_ must be a float64 array"),
        (nans, "scale_ must be a float64 array"),
        ([1.0] * width, "scale_ must be a float64 array"),
        ("1", "scale_ must be a float64 array"),
    ]:
        _refused(rewritten(scaler, stored_as(value)), match)
    # Unused where the parameters say so: a scaler without std keeps no scale.
    no_std = fp.dumps(fp.StandardScaler(with_std=False).fit(x))
    assert fp.loads(no_std).scale_ is None
    imputer = fp.dumps(fp.SimpleImputer(add_indicator=True).fit(np.where(x > 40, np.nan, x)))

    def bad_indicator(m, t):
        m["root"]["state"]["indicator_features_"] = [99]

    _refused(rewritten(imputer, bad_indicator), "indicator_features_")


def test_a_later_parameter_at_its_implied_value_leaves_the_state_unchanged():
    """QuantileTransformer's ignore_implicit_zeros came after its first artifacts: at False
    the state (and fingerprint) is what it was; at True it is another state."""
    x = np.random.default_rng(0).normal(size=(50, 2))
    plain = fp.QuantileTransformer(n_quantiles=10).fit(x)
    assert "ignore_implicit_zeros" not in plain._state().params
    other = fp.QuantileTransformer(n_quantiles=10, ignore_implicit_zeros=True).fit(x)
    assert other._state().params["ignore_implicit_zeros"] is True
    assert other.fingerprint != plain.fingerprint
    assert fp.loads(fp.dumps(other)).ignore_implicit_zeros is True
