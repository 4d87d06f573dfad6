"""A typed user script: what a service or a training job writes. Type-checked, never run, by
tests/test_typing.py: each annotation below must hold for mypy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import fastprep as fp

X = np.array([[1.0, 2.0], [3.0, np.nan]])
table = pa.table({"city": ["Oslo", "Lima"], "age": [30.0, 41.0]})

# fit, partial_fit, merge, set_params and set_output return the object itself, typed.
scaler: fp.StandardScaler = fp.StandardScaler().fit(X)
scaler = scaler.partial_fit(X).merge(fp.StandardScaler().fit(X))
scaler = scaler.set_params(with_mean=False).set_output(transform="pandas")
mean: np.ndarray = scaler.mean_
width: int = scaler.n_features_in_
encoder: fp.OneHotEncoder = fp.OneHotEncoder(sparse_output=False).fit(table.select(["city"]))
categories: list[np.ndarray] = encoder.categories_
imputer: fp.SimpleImputer = fp.SimpleImputer().partial_fit(X)
ct: fp.ColumnTransformer = fp.ColumnTransformer(
    [("num", fp.StandardScaler(), ["age"]), ("cat", fp.OneHotEncoder(), ["city"])]
).fit(table)
pipe: fp.Pipeline = fp.Pipeline([("impute", fp.SimpleImputer())]).fit(X)
one: np.ndarray = ct.transform_one({"age": 30.0, "city": "Oslo"})
names: np.ndarray = ct.get_feature_names_out()
threshold: fp.Threshold = fp.Threshold().fit(np.array([0.1, 0.9]), np.array([0, 1]))

# Loading gives a fitted object; its kind is known to the caller.
loaded: fp.Fitted = fp.load("model.fpa")
restored = fp.loads(fp.dumps(ct))
print(restored.fingerprint)
