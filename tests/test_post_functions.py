"""Postprocessing functions: Rust vs reference, properties, scipy oracles, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import float_matrices

from .helpers import Optional

special = Optional("scipy.special")


def _close(a, b, ulps: int = 16) -> bool:
    """Same NaN places; other values within ``ulps`` units of the dtype's precision, relative
    to max(1, |value|) (exp/log of two libms differ in their last bits)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    eps = np.finfo(a.dtype).eps
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
    with np.errstate(invalid="ignore"):
        near = np.abs(a64 - b64) <= ulps * eps * np.maximum(1.0, np.abs(b64))
    return bool(np.all(same | near))


def _both(fn, *args):
    if len(fp.testing.available_backends()) < 2:
        pytest.skip("one backend only: nothing to compare")
    out = {}
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            out[backend] = fn(*args)
    return list(out.values())


@pytest.mark.parametrize("fn", [fp.post.softmax, fp.post.log_softmax, fp.post.sigmoid])
@given(x=float_matrices(max_cols=12))
def test_scores_agree_across_backends(fn, x):
    results = _both(fn, x)
    assert all(r.dtype == x.dtype and r.shape == x.shape for r in results)
    assert all(_close(r, results[0]) for r in results[1:])


@given(x=float_matrices(allow_nan=False, allow_infinity=False, max_cols=12))
def test_softmax_sums_to_one_and_is_shift_invariant(x, backend):
    x = np.clip(x.astype(np.float64), -1e300, 1e300)
    p = fp.post.softmax(x)
    if x.shape[0]:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
        assert np.all((p >= 0) & (p <= 1))
    moderate = np.clip(x, -1e3, 1e3)
    np.testing.assert_allclose(
        fp.post.softmax(moderate + 7.25), fp.post.softmax(moderate), rtol=1e-9, atol=1e-300
    )
    log = fp.post.log_softmax(moderate)
    np.testing.assert_allclose(np.exp(log), fp.post.softmax(moderate), rtol=1e-9, atol=1e-300)


def test_scipy_oracles(backend):
    rng = np.random.default_rng(0)
    x = rng.normal(scale=30, size=(500, 7))
    np.testing.assert_allclose(fp.post.softmax(x), special.softmax(x, axis=1), rtol=1e-13)
    np.testing.assert_allclose(
        fp.post.log_softmax(x),
        special.log_softmax(x, axis=1),
        rtol=1e-13,
        atol=1e-13,
    )
    np.testing.assert_allclose(fp.post.sigmoid(x), special.expit(x), rtol=1e-13)
    x32 = x.astype(np.float32)
    assert fp.post.softmax(x32).dtype == np.float32
    # fastprep computes in float64 and rounds once: subnormal results differ from scipy's
    # float32 arithmetic in their few bits.
    expected32 = special.softmax(x32, axis=1)
    np.testing.assert_allclose(fp.post.softmax(x32), expected32, rtol=1e-5, atol=1e-37)


def test_extremes_and_nan_follow_scipy(backend):
    x = np.array(
        [
            [1e308, -1e308, 0.0],
            [-np.inf, 0.0, 0.0],
            [-np.inf, -np.inf, -np.inf],
            [np.inf, 0.0, 1.0],
            [np.nan, 0.0, 1.0],
            [-1e308, -1e308, -1e308],
        ]
    )
    p = fp.post.softmax(x)
    np.testing.assert_array_equal(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(p[1], [0.0, 0.5, 0.5])
    assert np.isnan(p[2:5]).all()  # no finite distribution: NaN, as scipy
    np.testing.assert_allclose(p[5], [1 / 3] * 3)
    with np.errstate(all="ignore"):
        expected = special.softmax(x, axis=1)
    assert np.array_equal(np.isnan(p), np.isnan(expected))
    log = fp.post.log_softmax(x)
    assert log[0, 0] == 0.0 and log[0, 1] == -np.inf
    s = fp.post.sigmoid(np.array([-1e308, -745.0, 0.0, 745.0, 1e308, np.nan]))
    assert s[0] == 0.0 and s[2] == 0.5 and s[4] == 1.0 and np.isnan(s[5])
    assert np.all(np.isfinite(s[:5]))


# Up to 40 columns: the ranking by counting (16 and 32 lanes) and the selection beyond.
@given(x=float_matrices(min_cols=1, max_cols=40), data=st.data())
def test_top_k_agrees_with_a_full_sort(x, data):
    k = data.draw(st.integers(1, x.shape[1]))
    values, indices = assert_backends_agree(fp.post.top_k, x, k)
    assert values.dtype == x.dtype and indices.dtype == np.int64
    for r in range(x.shape[0]):
        row = x[r].astype(np.float64)
        # the specification, spelled out: NaN first, then descending, ties by lower index
        order = sorted(range(row.size), key=lambda j: (not np.isnan(row[j]), -row[j], j))
        assert indices[r].tolist() == order[:k]
        np.testing.assert_array_equal(values[r], x[r][order[:k]])


@given(x=float_matrices(min_cols=1, max_cols=9))
def test_argmax_is_numpys(x):
    got = assert_backends_agree(fp.post.argmax, x)
    if x.shape[0]:
        np.testing.assert_array_equal(got, np.argmax(x, axis=1))


def test_one_row_labels_and_bad_input(backend):
    scores = np.array([0.1, 0.7, 0.2])
    assert fp.post.argmax(scores) == 1
    assert fp.post.argmax(scores, labels=["a", "b", "c"]) == "b"
    values, labels = fp.post.top_k(scores, 2, labels=np.array(["a", "b", "c"]))
    assert values.tolist() == [0.7, 0.2] and labels.tolist() == ["b", "c"]
    assert fp.post.softmax(scores).shape == (3,)
    for k in (0, -1, 4, 1.5, True):
        with pytest.raises(fp.ParameterError, match="k must be"):
            fp.post.top_k(scores, k)
    with pytest.raises(fp.ParameterError, match="labels"):
        fp.post.top_k(scores, 1, labels=["a"])
    with pytest.raises(fp.SchemaError, match="1 or 2 dimensions"):
        fp.post.softmax(np.zeros((2, 2, 2)))
    with pytest.raises(fp.SchemaError):
        fp.post.softmax(np.array([["a", "b"]]))
    with pytest.raises(fp.SchemaError, match="no columns"):
        fp.post.argmax(np.zeros((2, 0)))


# -- non-maximum suppression ----------------------------------------------------------------


@st.composite
def detections(draw, max_boxes: int = 40):
    n = draw(st.integers(0, max_boxes))
    corner = st.floats(0, 100, allow_nan=False, width=32)
    size = st.floats(0, 40, allow_nan=False, width=32)
    shapes = draw(st.lists(st.tuples(corner, corner, size, size), min_size=n, max_size=n))
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in shapes], dtype=np.float64)
    score = st.sampled_from([0.1, 0.5, 0.5, 0.9]) | st.floats(0, 1)  # ties are common
    scores = np.array(draw(st.lists(score, min_size=n, max_size=n)), dtype=np.float64)
    classes = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64)
    return boxes.reshape(n, 4), scores, classes


def _brute_force(boxes, scores, threshold, classes=None):
    """Greedy NMS written the slow, obvious way (an oracle independent of both kernels)."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        ok = True
        for j in kept:
            if classes is not None and classes[i] != classes[j]:
                continue
            a, b = boxes[i], boxes[j]
            w = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
            h = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
            union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
            if w * h > threshold * union:
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


@given(detections(), st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]))
def test_nms_agrees_with_reference_and_brute_force(det, threshold):
    boxes, scores, classes = det
    kept = assert_backends_agree(fp.post.nms, boxes, scores, threshold)
    assert kept.dtype == np.int64
    assert kept.tolist() == _brute_force(boxes, scores, threshold)
    per_class = assert_backends_agree(fp.post.nms, boxes, scores, threshold, classes=classes)
    assert per_class.tolist() == _brute_force(boxes, scores, threshold, classes)


def test_nms_bad_input(backend):
    boxes = np.array([[0, 0, 1, 1.0]])
    with pytest.raises(fp.SchemaError, match="n x 4"):
        fp.post.nms(np.zeros((2, 3)), [1.0, 2.0])
    with pytest.raises(fp.SchemaError, match="scores"):
        fp.post.nms(boxes, [1.0, 2.0])
    with pytest.raises(fp.DataError, match="NaN or infinity"):
        fp.post.nms(np.array([[0, 0, np.nan, 1.0]]), [1.0])
    with pytest.raises(fp.DataError, match="x1 <= x2"):
        fp.post.nms(np.array([[2, 0, 1, 1.0]]), [1.0])
    with pytest.raises(fp.DataError, match="scores hold NaN"):
        fp.post.nms(boxes, [np.nan])
    with pytest.raises(fp.SchemaError, match="classes"):
        fp.post.nms(boxes, [1.0], classes=[0.5])
    assert fp.post.nms(np.zeros((0, 4)), []).tolist() == []
