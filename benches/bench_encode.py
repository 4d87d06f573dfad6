"""Categorical encoders on ROWS x 4 string columns (cardinalities 10, 100, 1,000, 100,000) read
from a pyarrow Table: fastprep vs its reference vs scikit-learn (given a NumPy object array,
its best input) vs polars (given a polars DataFrame); `rust-objects` is fastprep given
scikit-learn's object array. Plus one request row through an encoder of 1M categories vs one
of 10."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp

from .conftest import ROWS, run

sk = pytest.importorskip("sklearn.preprocessing")
pl = pytest.importorskip("polars")

CARDINALITIES = (10, 100, 1_000, 100_000)
NAMES = [f"c{k}" for k in CARDINALITIES]
#: Categories of the big single-row encoder (smaller in quick mode, whose rows are few).
BIG = 1_000_000 if ROWS >= 1_000_000 else 20_000


def _vocabulary(n: int, prefix: str) -> np.ndarray:
    return np.array([f"{prefix}-{i:06d}-category" for i in range(n)], dtype=object)


@pytest.fixture(scope="session")
def strings():
    """(pyarrow Table, NumPy object array, polars DataFrame) of the same ROWS x 4 strings."""
    rng = np.random.default_rng(7)
    columns = {}
    for name, k in zip(NAMES, CARDINALITIES, strict=True):
        vocab = _vocabulary(min(k, ROWS), name)
        columns[name] = vocab[rng.integers(0, len(vocab), ROWS)]
    table = pa.table({n: pa.array(v, type=pa.string()) for n, v in columns.items()})
    objects = np.stack([columns[n] for n in NAMES], axis=1)
    return table, objects, pl.from_arrow(table)


def _reference_once(benchmark, impl, fn, *args):
    """The pure-Python reference loops over every string: one round is enough to compare."""
    if impl == "python" and ROWS >= 100_000:
        with fp.use_backend("python"):
            benchmark.pedantic(fn, args=args, rounds=1, iterations=1)
            return
    run(benchmark, impl, fn, *args)


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
@pytest.mark.parametrize("impl", ["rust", "python", "sklearn", "rust-objects"])
def bench_onehot(benchmark, strings, sparse, impl):
    table, objects, _ = strings
    # Dense output of 101,110 columns would not fit in memory: dense uses the two small columns.
    cols = NAMES if sparse else NAMES[:2]
    benchmark.group = f"transform OneHotEncoder({'sparse' if sparse else 'dense, c10+c100'})"
    X = objects[:, [NAMES.index(c) for c in cols]]
    if impl == "sklearn":
        enc = sk.OneHotEncoder(sparse_output=sparse).fit(X)
        run(benchmark, impl, enc.transform, X)
        return
    enc = fp.OneHotEncoder(sparse_output=sparse).fit(table.select(cols))
    if impl == "rust-objects":  # scikit-learn's input: the NumPy object array
        run(benchmark, "rust", enc.transform, X)
        return
    _reference_once(benchmark, impl, enc.transform, table.select(cols))


def _polars_ordinal(frame, enc):
    exprs = [
        pl.col(n).replace_strict(
            list(enc.categories_[j]),
            list(range(len(enc.categories_[j]))),
            return_dtype=pl.Float64,
        )
        for j, n in enumerate(NAMES)
    ]
    return lambda: frame.select(exprs).to_numpy()


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn", "polars", "rust-objects"])
def bench_ordinal(benchmark, strings, impl):
    table, objects, frame = strings
    benchmark.group = "transform OrdinalEncoder"
    if impl == "sklearn":
        enc = sk.OrdinalEncoder().fit(objects)
        run(benchmark, impl, enc.transform, objects)
        return
    enc = fp.OrdinalEncoder().fit(table)
    if impl == "rust-objects":
        run(benchmark, "rust", enc.transform, objects)
        return
    if impl == "polars":
        run(benchmark, impl, _polars_ordinal(frame, enc))
        return
    _reference_once(benchmark, impl, enc.transform, table)


@pytest.mark.parametrize("impl", ["rust", "python", "polars"])
def bench_count(benchmark, strings, impl):
    table, _, frame = strings
    benchmark.group = "transform CountEncoder"
    enc = fp.CountEncoder().fit(table)
    if impl == "polars":
        exprs = [pl.col(n).len().over(n).cast(pl.Float64) for n in NAMES]
        run(benchmark, impl, lambda: frame.select(exprs).to_numpy())
        return
    _reference_once(benchmark, impl, enc.transform, table)


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn", "rust-objects"])
def bench_fit(benchmark, strings, impl):
    table, objects, _ = strings
    benchmark.group = "fit OneHotEncoder"
    if impl == "sklearn":
        run(benchmark, impl, lambda: sk.OneHotEncoder().fit(objects))
        return
    if impl == "rust-objects":
        run(benchmark, "rust", lambda: fp.OneHotEncoder().fit(objects))
        return
    _reference_once(benchmark, impl, lambda: fp.OneHotEncoder().fit(table))


@pytest.fixture(scope="session")
def single_row_encoders():
    """Ordinal encoders of 10 and of BIG categories, fastprep's and scikit-learn's."""
    small, big = _vocabulary(10, "s"), _vocabulary(BIG, "b")
    return {
        "fastprep": (
            fp.OrdinalEncoder().fit({"c": small}),
            fp.OrdinalEncoder().fit(pa.table({"c": pa.array(big)})),
        ),
        "sklearn": (
            sk.OrdinalEncoder().fit(small.reshape(-1, 1)),
            sk.OrdinalEncoder().fit(big.reshape(-1, 1)),
        ),
    }


@pytest.mark.parametrize(
    "impl", ["rust", "rust-big", "python", "python-big", "sklearn", "sklearn-big"]
)
def bench_one_row(benchmark, single_row_encoders, impl):
    """One request row through a fitted encoder of 10 categories, and of BIG ("-big"): the
    lookup table is built at fit, so the big one should cost about the same."""
    benchmark.group = f"one row OrdinalEncoder: 10 vs {BIG:,} categories"
    name, _, size = impl.partition("-")
    if name == "sklearn":
        small, big = single_row_encoders["sklearn"]
        enc = big if size else small
        row = np.array([["b-000007-category" if size else "s-000007-category"]], dtype=object)
        if size and ROWS >= 100_000:  # about 2 s a call: scikit-learn rebuilds its table
            benchmark.pedantic(enc.transform, args=(row,), rounds=3, iterations=1)
            return
        run(benchmark, "sklearn", enc.transform, row)
        return
    small, big = single_row_encoders["fastprep"]
    enc = big if size else small
    row = {"c": ["b-000007-category" if size else "s-000007-category"]}
    run(benchmark, name, enc.transform, row)


@pytest.mark.parametrize("impl", ["rust", "sklearn"])
def bench_ordinal_dictionary(benchmark, strings, impl):
    """The same strings dictionary-encoded (as Parquet readers and pandas' categoricals give
    them): each dictionary entry is looked up once, then only integer indices are mapped."""
    table, objects, _ = strings
    benchmark.group = "transform OrdinalEncoder, dictionary-encoded input"
    if impl == "sklearn":
        enc = sk.OrdinalEncoder().fit(objects)
        run(benchmark, impl, enc.transform, objects)
        return
    encoded = pa.table({n: table.column(n).dictionary_encode() for n in NAMES})
    enc = fp.OrdinalEncoder().fit(table)
    run(benchmark, impl, enc.transform, encoded)
