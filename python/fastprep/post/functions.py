"""Postprocessing: from raw model output to the answer a service returns.

Functions on scores, 1-D (one row) or 2-D (rows x classes), float32 or float64 (float32 stays
float32; integers become float64), each one call into Rust with the GIL released:

- ``softmax``, ``log_softmax``: per row, stable for any finite input (values near ±1e308
  included) and for rows masked with -inf. A row holding NaN, a row of only -inf and a row
  holding +inf have no finite distribution: their output is NaN, as scipy's.
- ``sigmoid``: the logistic function, elementwise, without overflow; NaN stays NaN.
- ``argmax``, ``top_k``: NaN ranks above every number (as NumPy's argmax); ties go to the
  lowest index; ``labels=`` maps indices to labels.
- ``nms``: greedy non-maximum suppression of detection boxes.

Example
-------
>>> import numpy as np, fastprep as fp
>>> fp.post.softmax(np.array([1.0, 1.0])).tolist()
[0.5, 0.5]
>>> values, labels = fp.post.top_k(np.array([0.1, 0.7, 0.2]), 2, labels=["a", "b", "c"])
>>> labels.tolist()
['b', 'c']
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from fastprep._backend import kernels
from fastprep._input import as_float_matrix
from fastprep.exceptions import DataError, ParameterError, SchemaError

__all__ = ["argmax", "log_softmax", "nms", "sigmoid", "softmax", "top_k"]


def _rows(x, owner: str) -> tuple[np.ndarray, bool]:
    """``x`` as a 2-D float matrix, and whether it was one row (1-D)."""
    a = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if a.ndim == 1:
        return as_float_matrix(a.reshape(1, -1), owner=owner), True
    if a.ndim != 2:
        raise SchemaError(f"{owner}: expected scores of 1 or 2 dimensions, got shape {a.shape}")
    return as_float_matrix(a, owner=owner), False


def softmax(x) -> np.ndarray:
    """exp(x) / sum(exp(x)) of each row, computed as exp(x - max) / sum(exp(x - max))."""
    m, one = _rows(x, "softmax")
    y = kernels().softmax(m)
    return y[0] if one else y


def log_softmax(x) -> np.ndarray:
    """log(softmax(x)) of each row, computed as x - max - log(sum(exp(x - max)))."""
    m, one = _rows(x, "log_softmax")
    y = kernels().log_softmax(m)
    return y[0] if one else y


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)) of every value (any shape up to 2-D)."""
    m, one = _rows(x, "sigmoid")
    y = kernels().sigmoid(m)
    return y[0] if one else y


def _labelled(indices: np.ndarray, labels) -> np.ndarray:
    table = np.asarray(labels)
    if table.ndim != 1:
        raise ParameterError("labels must be a 1-D sequence, one label per column")
    return table[indices]


def argmax(x, *, labels=None):
    """The index of each row's largest value (a scalar for 1-D input), or its label."""
    m, one = _rows(x, "argmax")
    if labels is not None and len(labels) != m.shape[1]:
        raise ParameterError(f"argmax: {len(labels)} labels for {m.shape[1]} columns")
    if m.shape[1] == 0:
        raise SchemaError("argmax: the scores have no columns")
    idx = kernels().argmax(m)
    out: Any = idx if labels is None else _labelled(idx, labels)
    return out[0] if one else out


def top_k(x, k: int, *, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """``(values, indices)`` of the ``k`` largest values of each row, in descending order,
    ties broken by the lowest index; ``labels=`` gives labels instead of indices."""
    m, one = _rows(x, "top_k")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= m.shape[1]:
        raise ParameterError(
            f"top_k: k must be an integer between 1 and the number of columns "
            f"({m.shape[1]}), got {k!r}"
        )
    if labels is not None and len(labels) != m.shape[1]:
        raise ParameterError(f"top_k: {len(labels)} labels for {m.shape[1]} columns")
    values, idx = kernels().top_k(m, int(k))
    out = idx if labels is None else _labelled(idx, labels)
    return (values[0], out[0]) if one else (values, out)


def nms(boxes, scores, iou_threshold: float = 0.5, *, classes=None) -> np.ndarray:
    """Greedy non-maximum suppression. ``boxes``: n x 4 ``(x1, y1, x2, y2)``; ``scores``: n.
    Boxes are taken best score first (ties: lower index first) and kept unless their
    intersection over union with a kept box exceeds ``iou_threshold`` (tested as
    ``intersection > iou_threshold * union``); with ``classes`` (n integer labels), only boxes
    of one class suppress each other. Returns the kept indices, best first (torchvision's
    ``nms`` / ``batched_nms``). NaN or infinite coordinates, boxes with ``x2 < x1`` or
    ``y2 < y1``, and NaN scores are refused."""
    b = np.ascontiguousarray(boxes, dtype=np.float64)
    s = np.ascontiguousarray(scores, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise SchemaError(f"nms: boxes must be n x 4 (x1, y1, x2, y2), got shape {b.shape}")
    if s.shape != (b.shape[0],):
        raise SchemaError(f"nms: {b.shape[0]} boxes need {b.shape[0]} scores, got {s.shape}")
    if not np.isfinite(b).all():
        raise DataError("nms: boxes hold NaN or infinity")
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        raise DataError("nms: boxes must have x1 <= x2 and y1 <= y2")
    if np.isnan(s).any():
        raise DataError("nms: scores hold NaN")
    if not isinstance(iou_threshold, numbers.Real) or np.isnan(iou_threshold):
        raise ParameterError(f"nms: iou_threshold must be a number, got {iou_threshold!r}")
    c = None
    if classes is not None:
        c = np.asarray(classes)
        if c.shape != (b.shape[0],) or c.dtype.kind not in "iub":
            raise SchemaError(f"nms: classes must be {b.shape[0]} integer labels")
        c = np.ascontiguousarray(c, dtype=np.int64)
    return kernels().nms(b, s, float(iou_threshold), c)
