"""Postprocessing kernels (twin of rust/fastprep-core/src/post.rs), on 2-D float arrays, row by
row. Scores are computed in float64 and rounded once to the input's float type.

NaN: softmax and log-softmax give a NaN row for a row holding NaN, a row of only -inf, or a
row holding +inf (no finite distribution, as scipy gives). argmax and top-k rank NaN above
every number (as NumPy's argmax does); ties go to the lowest index.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError
from fastprep.reference._ieee import ieee


def _shifted_exp(x64: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``exp(x - max)`` per row, the row maxima and the row sums (summed left to right, as
    the Rust kernel sums)."""
    m = np.max(x64, axis=1) if x64.shape[1] else np.zeros(x64.shape[0])
    e = np.exp(x64 - m[:, None])
    s = np.zeros(x64.shape[0])
    for j in range(x64.shape[1]):
        s = s + e[:, j]
    return e, m, s


@ieee
def softmax(x: np.ndarray) -> np.ndarray:
    e, _, s = _shifted_exp(x.astype(np.float64, copy=False))
    return (e / s[:, None]).astype(x.dtype, copy=False)


@ieee
def log_softmax(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64, copy=False)
    _, m, s = _shifted_exp(x64)
    return (x64 - m[:, None] - np.log(s)[:, None]).astype(x.dtype, copy=False)


@ieee
def sigmoid(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64, copy=False)
    z = np.exp(-np.abs(x64))  # exp never sees a large positive argument
    return np.where(x64 >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)


def argmax(x: np.ndarray) -> np.ndarray:
    if x.shape[1] == 0 and x.shape[0]:
        raise SchemaError("argmax of rows with no values")
    if x.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    return np.argmax(x, axis=1).astype(np.int64)


def _descending(x64: np.ndarray) -> np.ndarray:
    """Per row, the column order: NaN first, then larger values, ties by the lower index."""
    nan = np.isnan(x64)
    negated = np.where(nan, 0.0, -x64)
    return np.lexsort((negated, ~nan), axis=-1)  # stable: equal keys keep index order


def top_k(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    cols = x.shape[1]
    if not 1 <= k <= cols:
        raise ParameterError(f"k must be between 1 and the number of columns ({cols}), got {k}")
    order = _descending(x.astype(np.float64, copy=False))[:, :k].astype(np.int64)
    return np.take_along_axis(x, order, axis=1), order


def _overlaps(a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Whether box ``a``'s IoU with each row of ``b`` exceeds ``threshold``, tested as
    ``intersection > threshold * union`` (no division: a zero union suppresses nothing; the
    same operations as the Rust kernel)."""
    w = np.maximum(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0.0)
    h = np.maximum(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0.0)
    inter = w * h
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter > threshold * (area_a + area_b - inter)


def nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, classes: np.ndarray | None = None
) -> np.ndarray:
    n = boxes.shape[0]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise SchemaError(f"boxes must be n x 4 (x1, y1, x2, y2), got shape {boxes.shape}")
    if scores.shape != (n,) or (classes is not None and classes.shape != (n,)):
        raise SchemaError(f"{n} boxes need {n} scores (and classes), got {scores.shape[0]}")
    order = _descending(scores[None, :].astype(np.float64))[0]
    kept = []
    while order.size:
        i = order[0]
        kept.append(i)
        rest = order[1:]
        overlap = _overlaps(boxes[i], boxes[rest], iou_threshold)
        if classes is not None:
            overlap &= classes[rest] == classes[i]
        order = rest[~overlap]
    return np.asarray(kept, dtype=np.int64)
