"""What a fitted object answers for a batch, as named Arrow columns: the features, or the
predictions of a pipeline that ends in a model. One definition for every consumer that writes
answers as a table (``fastprep transform``, the MLflow flavor, Dask)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa


def answers(fitted) -> tuple[pa.Schema, Callable[[Any], list[pa.Array]]]:
    """``(schema, batch -> its columns)`` of what ``transform`` writes: the features, named; or
    for a pipeline that ends in a model, its ``prediction`` and, where it has them, the
    probability of each class (``proba_<class>``)."""
    model = getattr(fitted, "_model", lambda: None)()
    if model is None:
        names = [str(n) for n in fitted.get_feature_names_out()]

        def features(batch):
            out = fitted.transform(batch)
            out = out.toarray() if hasattr(out, "toarray") else np.asarray(out, dtype=np.float64)
            return [pa.array(out[:, j]) for j in range(out.shape[1])]

        return pa.schema([(n, pa.float64()) for n in names]), features
    classes = getattr(model[1], "classes_", None)
    labels = pa.float64() if classes is None else pa.array(np.asarray(classes)).type
    columns = [("prediction", labels)]
    proba = classes is not None and hasattr(fitted, "predict_proba")
    if proba:
        columns += [(f"proba_{c}", pa.float64()) for c in np.asarray(classes).tolist()]

    def predictions(batch):
        predicted = np.asarray(fitted.predict(batch))
        if predicted.ndim != 1:
            raise ValueError("the model predicts several targets: one column each is not offered")
        arrays = [pa.array(predicted, type=labels)]
        if proba:
            p = fitted.predict_proba(batch)
            arrays += [pa.array(p[:, j]) for j in range(p.shape[1])]
        return arrays

    return pa.schema(columns), predictions
