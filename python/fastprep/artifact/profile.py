"""The training profile an artifact carries: rows seen and, per input column, what the fit
saw (numbers: count, missing, min, max, mean, std; categories: count, missing, the number of
categories and the most frequent ones). It is read from the fitted steps' own accumulators, so
it costs nothing at fit time; ``fastprep inspect`` shows it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fastprep._input import positional_names
from fastprep.accumulators import CategoryCounts, FitAccumulator, decode_values

__all__ = ["profile"]


def profile(obj) -> dict:
    """Rows seen and per input column what fit saw: the profile a loaded object was saved
    with, or the one of its input steps' accumulators (``_input_steps``)."""
    front = obj._front()
    for holder in (obj, front):
        kept = getattr(holder, "_loaded_profile", None)
        if kept is not None:
            return kept
    columns: dict[str, Any] = {}
    rows = None
    for names, step in front._input_steps():
        stats = _step_profile(step, names)
        if stats is None:
            continue
        n, per_column = stats
        rows = n if rows is None else max(rows, n)
        columns.update(per_column)
    return {"rows": rows, "columns": columns}


def _top(values: np.ndarray, counts: np.ndarray, k: int = 10) -> list:
    order = np.argsort(-counts, kind="stable")[:k]
    return [[_plain(values[i]), int(counts[i])] for i in order]


def _plain(v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def _step_profile(step, names) -> tuple[int, dict] | None:
    acc = getattr(step, "accumulator_", None)
    width = getattr(step, "n_features_in_", 0)
    labels = [str(n) for n in names] if names is not None else positional_names(width)
    if isinstance(acc, FitAccumulator):
        m = acc.moments
        mean, var = m.mean, m.var
        out = {}
        for j, name in enumerate(labels[: len(m.count)]):
            out[name] = {
                "type": "numeric",
                "count": int(m.count[j]),
                "missing": int(m.nan_count[j]),
                "min": _plain(m.min[j]),
                "max": _plain(m.max[j]),
                "mean": _plain(mean[j]),
                "std": _plain(math.sqrt(var[j])),
            }
        rows = int(m.count[0] + m.nan_count[0]) if len(m.count) else 0
        return rows, out
    if isinstance(acc, CategoryCounts):
        out = {}
        for name, kind, counted in zip(labels, acc.kinds, acc.columns, strict=False):
            counts = np.asarray(counted[3], dtype=np.int64)
            top = np.argsort(-counts, kind="stable")[:10]
            values = decode_values(kind, counted)  # only the top ones are kept
            out[name] = {
                "type": "categorical",
                "count": int(counts.sum()),
                "missing": int(counted[4]),
                "categories": len(counts),
                "most_frequent": _top(values[top], counts[top]),
            }
        return acc.n_rows, out
    return None
