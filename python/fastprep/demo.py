"""``fastprep demo``: the numeric transforms, the categorical encoders and the whole Adult
preprocessing pipeline on the bundled census data, fitted and applied with both backends,
checked for agreement, and timed (next to scikit-learn when it is installed): batch throughput
and single-row latency."""

from __future__ import annotations

import time

import numpy as np

from fastprep._backend import get_backend, use_backend
from fastprep._version import __version__
from fastprep.artifact import load
from fastprep.binarize import Binarizer
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult
from fastprep.discretize import KBinsDiscretizer
from fastprep.encode import CountEncoder, OneHotEncoder, OrdinalEncoder
from fastprep.function import FunctionTransformer
from fastprep.hashing import FeatureHasher
from fastprep.impute import SimpleImputer
from fastprep.normalize import Normalizer
from fastprep.polynomial import PolynomialFeatures
from fastprep.power import PowerTransformer
from fastprep.quantile_transform import QuantileTransformer
from fastprep.scale import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from fastprep.spline import SplineTransformer
from fastprep.testing import agree, available_backends

TRANSFORMS = [
    ("StandardScaler", lambda: StandardScaler()),
    ("MinMaxScaler", lambda: MinMaxScaler()),
    ("MaxAbsScaler", lambda: MaxAbsScaler()),
    ("RobustScaler", lambda: RobustScaler()),
    ("Normalizer", lambda: Normalizer()),
    ("Binarizer", lambda: Binarizer(threshold=1.0)),
    ("SimpleImputer", lambda: SimpleImputer(strategy="median", add_indicator=True)),
    ("KBinsDiscretizer", lambda: KBinsDiscretizer(encode="ordinal", strategy="uniform")),
    ("QuantileTransformer", lambda: QuantileTransformer(output_distribution="normal")),
    ("PowerTransformer", lambda: PowerTransformer()),
    ("FunctionTransformer", lambda: FunctionTransformer(np.log1p)),
    ("PolynomialFeatures", lambda: PolynomialFeatures(2)),
    ("SplineTransformer", lambda: SplineTransformer(handle_missing="zeros")),
]
# scikit-learn refuses NaN in these, so the demo does not time them there.
_NO_NAN_IN_SKLEARN = ("Normalizer", "Binarizer", "KBinsDiscretizer", "PolynomialFeatures")


# Transcendental kernels: the C libraries' exp/log/pow may differ in the last bits.
_RTOL = {"QuantileTransformer": 1e-14, "PowerTransformer": 1e-12, "FunctionTransformer": 1e-14}


ENCODERS = [
    ("OneHotEncoder", lambda: OneHotEncoder(handle_unknown="ignore")),
    ("OneHotEncoder dense", lambda: OneHotEncoder(sparse_output=False, min_frequency=50)),
    ("OrdinalEncoder", lambda: OrdinalEncoder()),
    ("CountEncoder", lambda: CountEncoder(normalize=True)),
    ("FeatureHasher", lambda: FeatureHasher(2**18, input_type="string")),
]


def _sklearn_encoder(name: str, encoder, objects: np.ndarray):
    """scikit-learn's twin and its input (missing as NaN; rows of strings for the hasher)."""
    try:
        import sklearn.feature_extraction
        import sklearn.preprocessing
    except ImportError:
        return None
    if name == "FeatureHasher":
        rows = [[v for v in r if v is not None] for r in objects.tolist()]
        twin = sklearn.feature_extraction.FeatureHasher(2**18, input_type="string")
        return twin, rows
    if name == "CountEncoder":
        return None
    params = encoder.get_params()
    twin = getattr(sklearn.preprocessing, name.split()[0])(**params)
    sk_input = np.where(objects == None, np.nan, objects)  # noqa: E711
    return twin.fit(sk_input), sk_input


def _print_header(what: str, backends: list[str]) -> None:
    header = f"{what:<20} {'agree':>6} " + " ".join(f"{b + ' ms':>10}" for b in backends)
    header += f" {'sklearn ms':>11} {'speed-up':>9}"
    print(header)
    print("-" * len(header))


def _by_backend(fitted, data, backends: list[str], repeat: int, convert=lambda y: y):
    """Each backend's output (through ``convert``) and best transform time in ms."""
    outputs, times = [], {}
    for backend in backends:
        with use_backend(backend):
            outputs.append(convert(fitted.transform(data)))
            times[backend] = _best(lambda: fitted.transform(data), repeat) * 1e3
    return outputs, times


#: Why a table shows '-' where scikit-learn's time would be.
_NO_COMPARISON = {
    "Normalizer": "scikit-learn refuses the NaN in this input (fastprep keeps NaN)",
    "Binarizer": "scikit-learn refuses the NaN in this input (fastprep keeps NaN)",
    "KBinsDiscretizer": "scikit-learn refuses the NaN in this input (fastprep keeps NaN)",
    "PolynomialFeatures": "scikit-learn refuses the NaN in this input (fastprep keeps NaN)",
    "CountEncoder": "scikit-learn has no count encoder",
}

#: Why a transform is not faster than scikit-learn's, where that is known.
_WHY_NOT_FASTER = {
    "FunctionTransformer": "scikit-learn calls NumPy's log1p on the whole array, a vectorised "
    "(SVML) one; fastprep's own vectorised log1p is on a par with it. A named function's "
    "point is the compiled plan and the artifact",
    "PowerTransformer": "most of its time is the power function of each value; fastprep calls "
    "the C library's scalar pow, NumPy (under scikit-learn) a vectorised one",
}


def _has_sklearn() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def _row(name: str, same: bool, times: dict, sklearn_ms: float | None, notes: list) -> str:
    """One table row: agreement, each backend's time, scikit-learn's and the speed-up; what
    needs saying about a '-' or a slower time goes to ``notes``."""
    row = f"{name:<20} {'yes' if same else 'NO':>6} "
    row += " ".join(f"{t:>10.2f}" for t in times.values())
    if sklearn_ms is None:
        if name in _NO_COMPARISON and _has_sklearn():
            notes.append(f"- {name}: {_NO_COMPARISON[name]}.")
        return row + f" {'-':>11} {'-':>9}"
    first = next(iter(times.values()))
    mark = ""
    if sklearn_ms / first < 1.05:  # not clearly faster: say why
        mark = "*"
        why = _WHY_NOT_FASTER.get(
            name, "timings of this run; a busy machine can swap close results (try --repeat 20)"
        )
        notes.append(f"* {name}: not faster than scikit-learn here: {why}.")
    return row + f" {sklearn_ms:>11.2f} {sklearn_ms / first:>8.1f}x{mark}"


def _print_notes(notes: list) -> None:
    """The footnotes of a table: why a '-', why not faster; how to get the comparison."""
    if not _has_sklearn():
        print(
            "- scikit-learn is not installed, so it has no times to compare: "
            "`pip install scikit-learn` adds them (it is only a yardstick; fastprep never needs "
            "it to run)."
        )
    for note in notes:
        print(note)


def _comparable(y) -> np.ndarray:
    """A sparse result as its CSR arrays end to end (equal iff the matrices are identical)."""
    if hasattr(y, "indptr"):
        return np.concatenate([y.indptr, y.indices, y.data]).astype(np.float64)
    return y


def _has_scipy() -> bool:
    try:
        import scipy.sparse  # noqa: F401
    except ImportError:
        return False
    return True


def _categorical(repeat: int, backends: list[str]) -> int:
    import pyarrow as pa

    table = load_adult()
    arrow = pa.table({c: table[c] for c in ADULT_CATEGORICAL})
    objects = np.stack([table[c] for c in ADULT_CATEGORICAL], axis=1)
    print(
        f"\nCategorical: {arrow.num_rows:,} rows x {arrow.num_columns} string columns from a "
        "pyarrow Table\n"
    )
    _print_header("encoder", backends)
    failures = 0
    # scipy is optional: without it the sparse-output encoders are left out, not densified
    # (the hasher's 2**18 columns would not fit in memory).
    sparse_ok = _has_scipy()
    skipped = []
    notes: list = []
    for name, make in ENCODERS:
        encoder = make()
        if getattr(encoder, "sparse_output", False) and not sparse_ok:
            skipped.append(name)
            continue
        fitted = encoder.fit(arrow)
        outputs, times = _by_backend(fitted, arrow, backends, repeat, _comparable)
        same = agree(outputs, rtol=0.0)
        failures += not same
        twin = _sklearn_encoder(name, fitted, objects)
        sk = None
        if twin is not None:
            model, data = twin
            sk = _best(lambda m=model, d=data: m.transform(d), repeat) * 1e3
        print(_row(name, same, times, sk, notes))
    _print_notes(notes)
    print(
        "\nagree: identical outputs (sparse: identical CSR arrays). scikit-learn is given a NumPy "
        "object array\n(its best input; missing as NaN), or one list of strings per row for "
        "the hasher."
    )
    if skipped:
        print(f"left out, as their sparse output needs scipy (pip install scipy): {skipped}")
    return failures


def _median_latency(fn, items) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _pipeline(repeat: int, backends: list[str]) -> int:
    """The whole Adult preprocessing: numeric impute + scale, categorical one-hot."""
    import pyarrow as pa

    table = load_adult()
    columns = list(ADULT_NUMERIC) + list(ADULT_CATEGORICAL)
    arrow = pa.table({c: table[c] for c in columns})
    pipeline = adult_pipeline().fit(arrow)
    rows = arrow.to_pylist()
    sample = rows[:: max(1, len(rows) // 300)]
    width = len(pipeline.get_feature_names_out())
    print(
        f"\nPipeline: {len(ADULT_NUMERIC)} numeric columns (median impute, scale) + "
        f"{len(ADULT_CATEGORICAL)} categorical (most-frequent impute, one-hot) -> {width} "
        "features\n"
    )
    header = f"{'':<12} {'batch ms':>9} {'rows/s':>11} {'one row us':>11}"
    print(header)
    print("-" * len(header))
    outputs = {}
    for backend in backends:
        with use_backend(backend):
            outputs[backend] = pipeline.transform(arrow)
            batch = _best(lambda: pipeline.transform(arrow), repeat)
            one = _median_latency(pipeline.transform_one, sample)
        print(f"{backend:<12} {batch * 1e3:>9.2f} {len(rows) / batch:>11,.0f} {one * 1e6:>11.1f}")
    failures = not agree(list(outputs.values()), rtol=0.0)
    records = pipeline.transform_records(rows)
    failures += not np.array_equal(records, outputs[backends[0]])
    twin = _sklearn_pipeline(table, columns)
    if twin is not None:
        model, X = twin
        expected = model.transform(X)
        failures += not np.allclose(expected, outputs[backends[0]], rtol=1e-10, atol=1e-12)
        batch = _best(lambda: model.transform(X), repeat)
        one = _median_latency(model.transform, [X[i : i + 1] for i in range(0, len(X), 109)])
        print(
            f"{'scikit-learn':<12} {batch * 1e3:>9.2f} {len(rows) / batch:>11,.0f} "
            f"{one * 1e6:>11.1f}"
        )
    print(
        "\none row: the median latency of transform_one on a request row (a dict of Python "
        "values);\nscikit-learn: transform of a one-row array. transform_one and "
        "transform_records equal the batch\noutput bit for bit"
        + (" (checked)." if not failures else " (NOT equal).")
    )
    return int(failures)


def _artifact_and_drift() -> int:
    """Save the Adult pipeline, load it back, and watch a shifted copy of the data drift."""
    import tempfile
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.compute as pc

    from fastprep.drift import DriftMonitor

    table = load_adult()
    arrow = pa.table({c: table[c] for c in list(ADULT_NUMERIC) + list(ADULT_CATEGORICAL)})
    order = np.random.default_rng(0).permutation(arrow.num_rows)
    train, live = arrow.take(order[::2]), arrow.take(order[1::2])
    fitted = adult_pipeline().fit(train)
    with tempfile.TemporaryDirectory() as tmp:
        path = fitted.save(Path(tmp) / "adult.fpa", metadata={"model": "demo"})
        size = path.stat().st_size
        start = time.perf_counter()
        loaded = load(path)
        load_ms = (time.perf_counter() - start) * 1e3
    same = bool(
        loaded.fingerprint == fitted.fingerprint
        and np.array_equal(loaded.transform(live), fitted.transform(live))
    )
    print(
        f"\nArtifact: {size / 1024:.0f} KB, loaded in {load_ms:.2f} ms, fingerprint "
        f"{loaded.fingerprint[:16]}..., same outputs and fingerprint: "
        f"{'yes' if same else 'NO'}"
    )
    age = live.schema.get_field_index("age")
    shifted = live.set_column(age, "age", pc.add(live.column("age"), 10))
    calm = DriftMonitor(loaded).update(live).drifted
    drifted = DriftMonitor(loaded).update(shifted).drifted
    print(
        f"Drift: the other half of Adult flags {calm or 'no column'}; the same rows with "
        f"age + 10 flag {drifted}."
    )
    return int(not same or calm != [] or drifted != ["age"])


def _sklearn_pipeline(table, columns):
    try:
        from sklearn import compose, impute, pipeline, preprocessing
    except ImportError:
        return None
    X = np.empty((len(table[columns[0]]), len(columns)), dtype=object)
    for j, c in enumerate(columns):
        X[:, j] = table[c]
    X = np.where(X == None, np.nan, X)  # noqa: E711
    n = len(ADULT_NUMERIC)
    numeric = pipeline.Pipeline(
        [
            ("impute", impute.SimpleImputer(strategy="median")),
            ("scale", preprocessing.StandardScaler()),
        ]
    )
    categorical = pipeline.Pipeline(
        [
            ("impute", impute.SimpleImputer(strategy="most_frequent")),
            ("onehot", preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    model = compose.ColumnTransformer(
        [("num", numeric, list(range(n))), ("cat", categorical, list(range(n, len(columns))))]
    ).fit(X)
    return model, X


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _sklearn_twin(name: str, transform):
    try:
        import sklearn.impute
        import sklearn.preprocessing
    except ImportError:
        return None
    module = sklearn.impute if name == "SimpleImputer" else sklearn.preprocessing
    params = transform.get_params()
    if name == "QuantileTransformer":
        params["subsample"] = None  # fastprep's quantiles are exact: compare like with like
    return getattr(module, name)(**params)


def run(repeat: int = 5) -> int:
    table = load_adult()
    x = np.column_stack([table[c] for c in ADULT_NUMERIC])
    # Adult's numeric columns are complete; blank 2% of cells so the imputer has work to do.
    x[np.random.default_rng(0).random(x.shape) < 0.02] = np.nan
    backends = available_backends()
    print(
        f"fastprep {__version__} demo: Adult census, {x.shape[0]:,} rows x "
        f"{x.shape[1]} numeric columns ({', '.join(ADULT_NUMERIC)})"
    )
    print(f"backends: {', '.join(backends)} (in use: {get_backend()})\n")
    _print_header("transform", backends)
    failures = 0
    notes: list = []
    for name, make in TRANSFORMS:
        fitted = make().fit(x)
        outputs, times = _by_backend(fitted, x, backends, repeat)
        same = agree(outputs, rtol=_RTOL.get(name, 0.0))
        failures += not same
        twin = _sklearn_twin(name, fitted)
        sk = None
        if twin is not None and name not in _NO_NAN_IN_SKLEARN:
            twin.fit(x)
            sk = _best(lambda t=twin: t.transform(x), repeat) * 1e3
        print(_row(name, same, times, sk, notes))
    _print_notes(notes)
    print(
        "\nagree: the backends' outputs are bit-identical (NaN in the same places); for the "
        "transforms\nthat call exp/log (QuantileTransformer, PowerTransformer, "
        "FunctionTransformer), within 1e-12 of each column's magnitude."
    )
    print("speed-up: scikit-learn's transform time over the first backend's.")
    failures += _categorical(repeat, backends)
    failures += _pipeline(repeat, backends)
    failures += _artifact_and_drift()
    if failures:
        print(f"\n{failures} transform(s) disagree between backends")
        return 1
    return 0
