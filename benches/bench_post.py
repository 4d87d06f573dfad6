"""Postprocessing on ROWS x 10 float32 scores (1M x 10 at full size): fastprep (rust; python =
the reference kernels) vs hand-written NumPy, and NMS over 10,000 boxes vs the reference."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import ROWS, run

CLASSES = 10
BOXES = 10_000 if ROWS >= 1_000_000 else 500


@pytest.fixture(scope="session")
def scores():
    return np.random.default_rng(7).normal(scale=3, size=(ROWS, CLASSES)).astype(np.float32)


def _numpy_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numpy_top_k(x, k):
    part = np.argpartition(-x, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(x, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(part, order, axis=1)


@pytest.mark.parametrize("impl", ["rust", "python", "numpy"])
def bench_softmax(benchmark, scores, impl):
    benchmark.group = f"softmax {ROWS:,} x {CLASSES} float32"
    run(benchmark, impl, _numpy_softmax if impl == "numpy" else fp.post.softmax, scores)


@pytest.mark.parametrize("impl", ["rust", "python", "numpy"])
def bench_top5(benchmark, scores, impl):
    benchmark.group = f"top-5 {ROWS:,} x {CLASSES} float32"
    run(benchmark, impl, _numpy_top_k if impl == "numpy" else fp.post.top_k, scores, 5)


@pytest.mark.parametrize("impl", ["rust", "python", "numpy"])
def bench_argmax(benchmark, scores, impl):
    benchmark.group = f"argmax {ROWS:,} x {CLASSES} float32"
    fn = (lambda x: np.argmax(x, axis=1)) if impl == "numpy" else fp.post.argmax
    run(benchmark, impl, fn, scores)


@pytest.fixture(scope="session")
def boxes():
    rng = np.random.default_rng(8)
    corners = rng.uniform(0, 1000, size=(BOXES, 2))
    sizes = rng.uniform(5, 60, size=(BOXES, 2))
    return np.hstack([corners, corners + sizes]), rng.random(BOXES), rng.integers(0, 5, BOXES)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_nms(benchmark, boxes, impl):
    b, s, _ = boxes
    benchmark.group = f"nms {BOXES:,} boxes, IoU 0.5"
    run(benchmark, impl, fp.post.nms, b, s, 0.5)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_nms_per_class(benchmark, boxes, impl):
    b, s, c = boxes
    benchmark.group = f"nms {BOXES:,} boxes, IoU 0.5, 5 classes"
    run(benchmark, impl, lambda: fp.post.nms(b, s, 0.5, classes=c))
