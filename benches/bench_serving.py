"""The request path: records through a fitted ColumnTransformer of the Adult data (6 numeric
columns: median impute then standard scale; 3 categorical: one-hot, unknown ignored; 33
output columns), fastprep's ``transform_one`` / ``transform_records`` against a hand-written
Python function computing the same features (dict -> list -> ``np.array``), scikit-learn on a
DataFrame and ONNX Runtime running skl2onnx's conversion of the scikit-learn pipeline fed the
same record. Also: the first call on a new thread, and ``transform(X, out=...)`` of the scalers
into a warm buffer against ``np.copyto`` of the same array."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import fastprep as fp

from .conftest import (
    ROWS,
    SERVING_CAT,
    SERVING_NUM,
    onnx_serving_session,
    run,
    serving_frame,
    sklearn_serving_preprocessing,
)

NUM, CAT = SERVING_NUM, SERVING_CAT
pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")


def _hand_written(ct):
    """The features of one record in plain Python, from the fitted state: what a team writes
    by hand when a library is too slow for one request."""
    num = ct.named_transformers_["num"]
    fill = num.named_steps["impute"].statistics_.tolist()
    mean = num.named_steps["scale"].mean_.tolist()
    scale = num.named_steps["scale"].scale_.tolist()
    encoder = ct.named_transformers_["cat"]
    index = [{c: k for k, c in enumerate(cats.tolist())} for cats in encoder.categories_]
    starts = np.cumsum([0] + [len(c) for c in encoder.categories_]).tolist()
    width = len(NUM) + starts[-1]
    columns = list(enumerate(NUM))
    lookups = [(len(NUM) + starts[j], index[j], name) for j, name in enumerate(CAT)]

    def features(record: dict) -> np.ndarray:
        out = [0.0] * width
        for j, name in columns:
            v = record[name]
            out[j] = ((fill[j] if v is None else v) - mean[j]) / scale[j]
        for start, codes, name in lookups:
            k = codes.get(record[name])
            if k is not None:
                out[start + k] = 1.0
        return np.array(out)

    return features


@pytest.fixture(scope="module")
def serving():
    frame, _ = serving_frame()
    ours = fp.ColumnTransformer(
        [
            (
                "num",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer(strategy="median")),
                        ("scale", fp.StandardScaler()),
                    ]
                ),
                NUM,
            ),
            ("cat", fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), CAT),
        ]
    ).fit(frame)
    theirs = sklearn_serving_preprocessing().fit(frame)
    complete = frame.dropna().reset_index(drop=True)
    records = [
        {c: (float(v) if c in NUM else v) for c, v in row.items()}
        for row in complete.head(100).to_dict("records")
    ]
    hand = _hand_written(theirs)
    np.testing.assert_allclose(ours.transform_one(records[0]), hand(records[0]), rtol=1e-12)
    np.testing.assert_allclose(
        ours.transform_records(records), theirs.transform(complete.head(100)), rtol=1e-12
    )
    return ours, theirs, hand, records, complete.head(100)


@pytest.fixture(scope="module")
def onnx_session(serving):
    _, theirs, _, records, _ = serving
    session, feed = onnx_serving_session(theirs)
    ran = session.run(None, feed(records[:1]))[0]
    np.testing.assert_allclose(ran[0], serving[0].transform_one(records[0]), rtol=1e-5)
    return session, feed


@pytest.mark.parametrize("impl", ["rust", "python", "hand-written", "sklearn", "onnxruntime"])
def bench_one_record(benchmark, serving, onnx_session, impl):
    """One record (a dict of Python values) to its features."""
    ours, theirs, hand, records, _ = serving
    benchmark.group = "serving: one record"
    record = records[0]
    if impl == "hand-written":
        run(benchmark, impl, hand, record)
    elif impl == "sklearn":
        run(benchmark, impl, lambda r: theirs.transform(pd.DataFrame([r])), record)
    elif impl == "onnxruntime":
        session, feed = onnx_session
        run(benchmark, impl, lambda r: session.run(None, feed([r]))[0][0], record)
    else:
        run(benchmark, impl, ours.transform_one, record)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_one_record_as_records(benchmark, serving, impl):
    """``transform_records([record])``: against ``transform_one`` of the same record."""
    ours, _, _, records, _ = serving
    benchmark.group = "serving: one record"
    benchmark.name = f"transform_records[{impl}]"
    run(benchmark, impl, ours.transform_records, records[:1])


@pytest.mark.parametrize("impl", ["rust", "hand-written", "sklearn", "onnxruntime"])
def bench_hundred_records(benchmark, serving, onnx_session, impl):
    """100 records: fastprep's transform_records, the hand-written function per record,
    scikit-learn's transform of the same 100 rows as a DataFrame (built beforehand), ONNX
    Runtime fed them as one batch."""
    ours, theirs, hand, records, frame = serving
    benchmark.group = "serving: 100 records"
    if impl == "hand-written":
        run(benchmark, impl, lambda rs: np.stack([hand(r) for r in rs]), records)
    elif impl == "sklearn":
        run(benchmark, impl, theirs.transform, frame)
    elif impl == "onnxruntime":
        session, feed = onnx_session
        run(benchmark, impl, lambda rs: session.run(None, feed(rs))[0], records)
    else:
        run(benchmark, impl, ours.transform_records, records)


def _first_calls(fn, arg, threads: int = 200) -> float:
    """The median time of ``fn(arg)`` as the first call on each of ``threads`` new threads,
    timed inside the thread, in ns."""
    firsts: list[int] = []

    def first(go: threading.Event) -> None:
        go.wait()  # until this thread is the only one running: the main thread is in join
        start = time.perf_counter_ns()
        fn(arg)
        firsts.append(time.perf_counter_ns() - start)

    for _ in range(threads):
        go = threading.Event()
        thread = threading.Thread(target=first, args=(go,))
        thread.start()
        go.set()
        thread.join()
    return float(np.median(firsts))


def _warm(fn, arg, calls: int = 20_000) -> float:
    """The median of 20 warm runs of ``fn(arg)``, in ns a call."""
    times = []
    for _ in range(20):
        start = time.perf_counter_ns()
        for _ in range(calls // 20):
            fn(arg)
        times.append((time.perf_counter_ns() - start) / (calls // 20))
    return float(np.median(times))


def bench_first_call_on_a_new_thread(benchmark, serving):
    """A warm call, benchmarked; and the first call on each of 200 new threads (what a
    ThreadingHTTPServer does per request), timed inside the thread: their median ratio to
    the warm median is in ``extra_info``, with the same ratio for the hand-written function
    and for ``np.empty(33)`` (what any answer as a NumPy array costs on a new thread)."""
    ours, _, hand, records, _ = serving
    record = records[0]
    benchmark.group = "serving: first call on a new thread"
    run(benchmark, "rust", ours.transform_one, record)
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # benchmarks disabled (a quick run): nothing to compare with
        _first_calls(ours.transform_one, record, threads=2)
        return
    warm = stats.stats.median * 1e9
    first = _first_calls(ours.transform_one, record)
    info = benchmark.extra_info
    info["first_call_median_ns"] = first
    info["first_over_warm"] = first / warm
    for name, fn, arg in (("hand_written", hand, record), ("np_empty", np.empty, 33)):
        info[f"{name}_first_ns"] = _first_calls(fn, arg)
        info[f"{name}_warm_ns"] = _warm(fn, arg)
        info[f"{name}_first_over_warm"] = info[f"{name}_first_ns"] / info[f"{name}_warm_ns"]


SCALERS = {
    "StandardScaler": fp.StandardScaler,
    "MinMaxScaler": fp.MinMaxScaler,
    "MaxAbsScaler": fp.MaxAbsScaler,
    "RobustScaler": fp.RobustScaler,
}


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(0).normal(size=(ROWS, 16))


@pytest.mark.parametrize("impl", ["rust", "python", "copyto"])
@pytest.mark.parametrize("name", list(SCALERS))
def bench_transform_into_a_warm_buffer(benchmark, batch, name, impl):
    """``transform(X, out=buffer)`` with a buffer written before (its pages mapped), against
    ``np.copyto`` of the same array into it: the floor for writing the output."""
    benchmark.group = f"serving: {name} into a warm buffer"
    buffer = np.empty_like(batch)
    np.copyto(buffer, batch)
    if impl == "copyto":
        run(benchmark, impl, np.copyto, buffer, batch)
    else:
        scaler = SCALERS[name]().fit(batch)
        run(benchmark, impl, lambda x: scaler.transform(x, out=buffer), batch)
