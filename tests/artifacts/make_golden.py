"""Write the golden artifacts of the current format version, with their expected outputs.

Run once per format version (``python tests/artifacts/make_golden.py``) and commit the result:
tests/artifacts/v<N>/ then proves that every later fastprep still loads format N and gives the
same numbers. Never regenerate an existing version's files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

import fastprep as fp
from fastprep.artifact import FORMAT_VERSION
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult


def adult_rows(n: int = 200) -> pa.Table:
    table = load_adult()
    return pa.table({c: table[c][:n] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})


def scaler_input() -> np.ndarray:
    return np.array([[1.0, 10.0], [2.0, 20.0], [4.0, np.nan]])


def goldens() -> dict:
    """name -> (fitted object, input, metadata)."""
    adult = adult_rows(2000)
    x = scaler_input()
    numeric = np.column_stack([adult.column(c).to_numpy() for c in ADULT_NUMERIC]).astype(float)
    ordinal = fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    rare = fp.OneHotEncoder(
        min_frequency=50, handle_unknown="infrequent_if_exist", sparse_output=False
    )
    mixed = fp.ColumnTransformer(
        [
            ("bins", fp.KBinsDiscretizer(n_bins=4, encode="onehot-dense"), ["age"]),
            ("qt", fp.QuantileTransformer(n_quantiles=20), ["fnlwgt"]),
            ("pt", fp.PowerTransformer(), ["hours_per_week"]),
            ("ord", ordinal, ["workclass", "race"]),
            ("count", fp.CountEncoder(normalize=True), ["sex"]),
            ("rare", rare, ["native_country"]),
        ]
    )
    return {
        "standard_scaler": (fp.StandardScaler().fit(x), x, {"model": "golden", "version": 1}),
        "adult_pipeline": (adult_pipeline().fit(adult), adult_rows(200), {"model": "adult"}),
        "mixed": (mixed.fit(adult), adult_rows(200), {}),
        "strict_encoder": (
            fp.OneHotEncoder(sparse_output=False).fit(adult.select(["race", "sex"])),
            adult_rows(200).select(["race", "sex"]),
            {},
        ),
        "robust_numeric": (
            fp.Pipeline([("r", fp.RobustScaler()), ("b", fp.Binarizer(threshold=0.5))]).fit(
                numeric
            ),
            numeric[:50],
            {},
        ),
    }


def _columns(obj, data) -> dict:
    names = [str(n) for n in getattr(obj, "feature_names_in_", [])] or None
    if isinstance(data, pa.Table):
        columns = {n: data.column(n).to_pylist() for n in names}
    else:
        names = names or [f"x{j}" for j in range(data.shape[1])]
        columns = {n: data[:, j].tolist() for j, n in enumerate(names)}
    return {n: [None if v is None or v != v else v for v in vs] for n, vs in columns.items()}


def main() -> int:
    out = Path(__file__).parent / f"v{FORMAT_VERSION}"
    if out.exists() and "--force" not in sys.argv:
        print(f"{out} exists: golden files of a released format are never rewritten")
        return 1
    out.mkdir(exist_ok=True)
    for name, (obj, data, metadata) in goldens().items():
        obj.save(out / f"{name}.fpa", metadata=metadata)
        np.save(out / f"{name}.expected.npy", np.asarray(obj.transform(data)), allow_pickle=False)
        # The input as JSON columns (null: missing), for the Rust core's test of the same file.
        (out / f"{name}.input.json").write_text(json.dumps(_columns(obj, data)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
