"""One fitted object shared by 8 threads gives bit-identical results to one thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastprep as fp
from fastprep.testing import assert_bit_identical

from .helpers import DEFAULT_CASES, case_id


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_eight_threads_share_one_fitted_object(case, backend):
    cls, params = case
    rng = np.random.default_rng(11)
    x = rng.normal(size=(20_000, 8))
    x[rng.random(x.shape) < 0.05] = np.nan
    transform = cls(**params).fit(x)
    batches = [x[i::8] for i in range(8)] * 4
    expected = [transform.transform(b) for b in batches]

    def work(i):
        with fp.use_backend(backend):  # the backend choice is per thread
            return transform.transform(batches[i])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(len(batches))))
    for got, want in zip(results, expected, strict=True):
        assert_bit_identical(got, want)


@pytest.mark.parametrize(
    "make",
    [
        lambda: fp.OneHotEncoder(handle_unknown="ignore"),
        lambda: fp.OneHotEncoder(sparse_output=False, min_frequency=20),
        lambda: fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        lambda: fp.CountEncoder(),
    ],
    ids=["onehot", "onehot-dense", "ordinal", "count"],
)
def test_eight_threads_share_one_fitted_encoder(make, backend):
    import pyarrow as pa

    rng = np.random.default_rng(12)
    words = np.array([f"w{i}" for i in range(300)] + [None], dtype=object)
    table = pa.table(
        {"a": words[rng.integers(0, 301, 20_000)], "b": words[rng.integers(0, 40, 20_000)]}
    )
    encoder = make().fit(table.slice(0, 10_000))  # the rest holds unknown categories
    batches = [table.slice(i * 2_500, 2_500) for i in range(8)] * 2
    dense = lambda y: y.toarray() if hasattr(y, "toarray") else y  # noqa: E731
    expected = [dense(encoder.transform(b)) for b in batches]

    def work(i):
        with fp.use_backend(backend):
            return dense(encoder.transform(batches[i]))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(len(batches))))
    for got, want in zip(results, expected, strict=True):
        assert_bit_identical(got, want)


def test_num_threads_cap_changes_nothing_but_speed(backend):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300_000, 4))
    scaler = fp.StandardScaler().fit(x)
    expected = scaler.transform(x)
    before = fp.get_num_threads()
    try:
        fp.set_num_threads(1)
        assert_bit_identical(scaler.transform(x), expected)
    finally:
        fp.set_num_threads(before)
    with pytest.raises(fp.ParameterError):
        fp.set_num_threads(-1)
