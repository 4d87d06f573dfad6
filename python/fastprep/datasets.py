"""The bundled UCI Adult census table (CC BY 4.0; see fastprep/data/README.md), for the demo,
examples, tests and benchmarks. Read with the standard library only."""

from __future__ import annotations

import csv
import gzip
import io
from importlib import resources

import numpy as np

from fastprep.compose import ColumnTransformer, Pipeline
from fastprep.encode import OneHotEncoder
from fastprep.impute import SimpleImputer
from fastprep.scale import StandardScaler

__all__ = ["ADULT_CATEGORICAL", "ADULT_NUMERIC", "adult_pipeline", "load_adult"]

ADULT_NUMERIC = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
ADULT_CATEGORICAL = (
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
)


def load_adult() -> dict[str, np.ndarray]:
    """Columns by name: numeric ones as float64 (NaN where missing), the others as object
    arrays of str (None where missing). 32,561 rows; ``salary`` is the label."""
    raw = resources.files("fastprep").joinpath("data/adult.csv.gz").read_bytes()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        cells = [row[j] for row in rows]
        if name in ADULT_NUMERIC:
            columns[name] = np.array([float(c) if c else np.nan for c in cells])
        else:
            columns[name] = np.array([c if c else None for c in cells], dtype=object)
    return columns


def adult_pipeline():
    """The Adult preprocessing (unfitted) that the demo, tests and benchmarks share: numeric
    columns median-imputed and standardized, categorical ones most-frequent-imputed and
    one-hot encoded (unknown categories ignored), dense output."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [("num", numeric, list(ADULT_NUMERIC)), ("cat", categorical, list(ADULT_CATEGORICAL))]
    )
