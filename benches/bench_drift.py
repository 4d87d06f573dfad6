"""Monitoring drift on the Adult pipeline: a monitor attached to the pipeline's transform of a
ROWS-row batch against the plain transform (the monitoring cost is the difference; target
<= 0.3x), DriftMonitor.update of the batch on its own, and update_row of one request row
against transform_one (target <= 0.5x). `rust` is the Rust backend, `python` the reference."""

from __future__ import annotations

import pyarrow as pa
import pytest

from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult
from fastprep.drift import DriftMonitor

from .conftest import ROWS, run


@pytest.fixture(scope="session")
def adult():
    table = load_adult()
    base = pa.table({c: table[c] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})
    big = pa.concat_tables([base] * (ROWS // base.num_rows + 1)).slice(0, ROWS)
    return adult_pipeline().fit(base), big, base.slice(0, 1).to_pylist()[0]


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_monitor_batch(benchmark, adult, impl):
    fitted, big, _ = adult
    benchmark.group = f"drift: monitor {ROWS:,} Adult rows"
    monitor = DriftMonitor(fitted)
    run(benchmark, impl, monitor.update, big)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_transform_batch(benchmark, adult, impl):
    fitted, big, _ = adult
    benchmark.group = f"drift: transform {ROWS:,} Adult rows (the reference)"
    run(benchmark, impl, fitted.transform, big)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_transform_batch_monitored(benchmark, adult, impl):
    fitted, big, _ = adult
    benchmark.group = f"drift: transform {ROWS:,} Adult rows, monitor attached"
    monitor = DriftMonitor(fitted).attach()
    try:
        run(benchmark, impl, fitted.transform, big)
    finally:
        monitor.detach()


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_monitor_row(benchmark, adult, impl):
    fitted, _, row = adult
    benchmark.group = "drift: monitor one Adult row"
    monitor = DriftMonitor(fitted)
    run(benchmark, impl, monitor.update_row, row)


@pytest.mark.parametrize("impl", ["rust", "python"])
def bench_transform_row(benchmark, adult, impl):
    fitted, _, row = adult
    benchmark.group = "drift: transform_one one Adult row (the reference)"
    run(benchmark, impl, fitted.transform_one, row)
