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
