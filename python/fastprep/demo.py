"""``fastprep demo``: the numeric transforms on the bundled Adult census data, fitted and
applied with both backends, checked for agreement, and timed (next to scikit-learn when it is
installed)."""

from __future__ import annotations

import time

import numpy as np

import fastprep as fp
from fastprep.datasets import ADULT_NUMERIC, load_adult
from fastprep.testing_light import agree, available_backends

TRANSFORMS = [
    ("StandardScaler", lambda: fp.StandardScaler()),
    ("MinMaxScaler", lambda: fp.MinMaxScaler()),
    ("MaxAbsScaler", lambda: fp.MaxAbsScaler()),
    ("RobustScaler", lambda: fp.RobustScaler()),
    ("Normalizer", lambda: fp.Normalizer()),
    ("Binarizer", lambda: fp.Binarizer(threshold=1.0)),
    ("SimpleImputer", lambda: fp.SimpleImputer(strategy="median", add_indicator=True)),
    ("KBinsDiscretizer", lambda: fp.KBinsDiscretizer(encode="ordinal", strategy="uniform")),
    ("QuantileTransformer", lambda: fp.QuantileTransformer(output_distribution="normal")),
    ("PowerTransformer", lambda: fp.PowerTransformer()),
]
# scikit-learn refuses NaN in these, so the demo does not time them there.
_NO_NAN_IN_SKLEARN = ("Normalizer", "Binarizer", "KBinsDiscretizer")


# Transcendental kernels: the C libraries' exp/log/pow may differ in the last bits.
_RTOL = {"QuantileTransformer": 1e-14, "PowerTransformer": 1e-12}


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
        f"fastprep {fp.__version__} demo: Adult census, {x.shape[0]:,} rows x "
        f"{x.shape[1]} numeric columns ({', '.join(ADULT_NUMERIC)})"
    )
    print(f"backends: {', '.join(backends)} (in use: {fp.get_backend()})\n")
    header = f"{'transform':<20} {'agree':>6} " + " ".join(f"{b + ' ms':>10}" for b in backends)
    header += f" {'sklearn ms':>11} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    failures = 0
    for name, make in TRANSFORMS:
        fitted = make().fit(x)
        outputs, times = {}, {}
        for backend in backends:
            with fp.use_backend(backend):
                outputs[backend] = fitted.transform(x)
                times[backend] = _best(lambda f=fitted: f.transform(x), repeat) * 1e3
        same = agree(list(outputs.values()), rtol=_RTOL.get(name, 0.0))
        failures += not same
        row = f"{name:<20} {'yes' if same else 'NO':>6} "
        row += " ".join(f"{times[b]:>10.2f}" for b in backends)
        twin = _sklearn_twin(name, fitted)
        if twin is not None and name not in _NO_NAN_IN_SKLEARN:
            twin.fit(x)
            sk = _best(lambda t=twin: t.transform(x), repeat) * 1e3
            row += f" {sk:>11.2f} {sk / times[backends[0]]:>8.1f}x"
        else:
            row += f" {'-':>11} {'-':>9}"
        print(row)
    print(
        "\nagree: the backends' outputs are bit-identical (NaN in the same places); for the "
        "transforms\nthat call exp/log (QuantileTransformer, PowerTransformer), within 1e-12 of "
        "each column's magnitude."
    )
    print("speed-up: scikit-learn's transform time over the first backend's.")
    if failures:
        print(f"\n{failures} transform(s) disagree between backends")
        return 1
    return 0
