"""Drift: compare live traffic with the training data, without the training data.

Every fitted ``Pipeline`` and ``ColumnTransformer`` keeps a reference profile of its input
columns (``drift_reference_``), captured during ``fit`` / ``partial_fit`` and saved in its
artifact:

- a numeric column: edges at the training percentiles (99 at most, distinct) and the training
  count of each bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``, plus missing values;
- a categorical column: the training count of each category, plus missing values.

``DriftMonitor(fitted)`` counts live values into the same bins and categories (in Rust, the GIL
released), per batch (``update``) or per request row (``update_row``). ``report()`` gives per
column, against the training profile:

- ``psi``: the population stability index, sum of (live - train) * ln(live / train) over
  the bins' fractions. Numeric columns use 10 bins of about equal training mass, made of the
  fine bins. Categorical columns use the categories plus one bin for unseen values. Fractions
  are floored at 1e-4, so that an empty bin gives a large finite term, not infinity.
- ``js``: the Jensen-Shannon distance (base 2, from 0 to 1) on the same bins.
- ``ks`` (numeric): the Kolmogorov-Smirnov statistic, the largest gap between the training
  and live CDFs at the edges. It is exact at the edges and within a bin's mass of scipy's
  ``ks_2samp`` on the raw values.
- ``missing_train``, ``missing_live``, ``missing_change``: missing rates and their difference.
- ``unseen`` (categorical): the rate of live values that are not a training category.
- ``rows``: the live rows counted, and ``drifted``, the flag below.

A column has drifted when the window holds at least ``min_rows`` rows and one statistic
exceeds its threshold. The defaults are in ``DEFAULT_THRESHOLDS``: PSI 0.2 (the usual
"significant shift"), JS 0.1, KS 0.1, a missing-rate change of 0.05, an unseen rate of 0.05,
and 100 rows. Pass ``thresholds={...}`` to change them.

Monitors merge like fit accumulators (``merge``: the replicas of a service combine their
windows; the order does not matter), and ``reset()`` starts a new window.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from fastprep._backend import get_backend, kernels
from fastprep._base import NATIVE_ENTRIES
from fastprep._input import Frame, categorical_column, coerce, float_column
from fastprep.accumulators import CORE_KIND, CategoryCounts, ValueBuffer, decode_values
from fastprep.exceptions import ArtifactError, FastprepError, ParameterError, SchemaError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["DEFAULT_THRESHOLDS", "DriftMonitor", "DriftReference"]

#: Positions of a request row's missing and unseen values in the pending row counts.
_MISSING, _UNSEEN = -1, -2

#: Fine bins per numeric column (percentile edges) and coarse bins for PSI and JS.
FINE_BINS = 100
COARSE_BINS = 10
#: Fractions below this count as this in PSI (an empty bin gives a large, finite term).
PSI_FLOOR = 1e-4
DEFAULT_THRESHOLDS = {
    "psi": 0.2,
    "js": 0.1,
    "ks": 0.1,
    "missing_change": 0.05,
    "unseen": 0.05,
    "min_rows": 100,
}


@dataclass
class ColumnReference:
    """One input column's training profile (see the module docstring)."""

    name: str
    type: str  # "numeric" or "categorical"
    rows: int
    missing: int
    counts: np.ndarray  # per bin (numeric) or per category (categorical)
    edges: np.ndarray | None = None  # numeric
    groups: np.ndarray | None = None  # numeric: coarse bin of each fine bin
    kind: str | None = None  # categorical: the column's kind (str, int, bool, float)
    vocab: tuple | None = None  # categorical: (core kind, values, offsets), sorted
    _index: Any = field(default=None, repr=False)
    _lookup: dict | None = field(default=None, repr=False)

    def index(self):
        """The active backend's lookup table of the categories, built once per backend."""
        if self._index is None:
            self._index = {}
        backend = get_backend()
        if backend not in self._index:
            self._index[backend] = kernels().CategoryIndex(*self.vocab)
        return self._index[backend]

    def lookup(self) -> dict:
        """Category value -> position, for the per-row path (built once)."""
        if self._lookup is None:
            values = decode_values(self.kind, self.vocab).tolist()
            self._lookup = {v: i for i, v in enumerate(values)}
        return self._lookup


def _groups(counts: np.ndarray) -> np.ndarray:
    """Each fine bin's coarse bin: COARSE_BINS groups of about equal training mass."""
    total = counts.sum()
    if total == 0:
        return np.zeros(counts.size, dtype=np.int64)
    middle = (np.cumsum(counts) - counts / 2) / total
    return np.minimum((middle * COARSE_BINS).astype(np.int64), COARSE_BINS - 1)


def _numeric_reference(name: str, buffer, rows: int, missing: int) -> ColumnReference:
    if buffer.rows_held == 0 and buffer.is_exact:
        edges = np.empty(0)
    else:
        levels = np.arange(1, FINE_BINS) / FINE_BINS
        q = buffer.quantiles(levels)[:, 0]
        edges = np.unique(q[~np.isnan(q)])
    values = buffer.values()[:, 0]
    counts, _ = kernels().bin_counts(np.ascontiguousarray(values, dtype=np.float64), edges)
    if not buffer.is_exact:  # a sample at evenly spaced ranks stands for the rows
        n = rows - missing
        counts = np.round(counts * (n / max(counts.sum(), 1))).astype(np.int64)
    return ColumnReference(name, "numeric", rows, missing, counts, edges, _groups(counts))


class DriftReference:
    """The training profile of a fitted composition's input columns, captured batch by batch
    (mergeable: exact quantiles while the values fit the fit budget, a sketch beyond)."""

    def __init__(self, columns: dict[str, ColumnReference]):
        self.columns = columns

    @classmethod
    def _accumulate(cls, frame, previous: dict | None) -> dict:
        """Per column, the mergeable accumulator of this batch merged into ``previous``."""
        acc = dict(previous or {})
        for name in frame.names:
            col = frame.columns[name]
            if frame.is_numeric(name):
                values = np.asarray(float_column(col, name, "drift"), dtype=np.float64)
                missing = int(np.isnan(values).sum())
                batch = ("numeric", ValueBuffer.of_batch(values.reshape(-1, 1)), values.size)
                batch = (*batch, missing)
            else:
                try:
                    column = categorical_column(col, f"column {name!r}")
                except (SchemaError, TypeError, ValueError):
                    continue  # a column drift does not read (it is not a category column)
                counts = CategoryCounts.of_columns([column])
                batch = ("categorical", counts, counts.n_rows, int(counts.columns[0][4]))
            acc[name] = cls._merged(acc.get(name), batch)
        return acc

    @classmethod
    def _merge_accumulated(cls, a: dict, b: dict) -> dict:
        """Two ``_accumulate`` results over other rows of the same columns, merged."""
        return {name: cls._merged(a.get(name), b.get(name)) for name in {**a, **b}}

    @staticmethod
    def _merged(before, batch):
        if before is None or batch is None or before[0] != batch[0]:
            return batch if batch is not None else before
        return (batch[0], before[1].merge(batch[1]), before[2] + batch[2],
                before[3] + batch[3])  # fmt: skip

    def _spec(self) -> list[dict]:
        """The reference as data, per column: named fields with arrays (what an artifact
        stores; ``_from_spec`` reads it back)."""
        out = []
        for name, ref in self.columns.items():
            entry: dict[str, Any] = {"name": name, "type": ref.type, "rows": int(ref.rows),
                                     "missing": int(ref.missing), "counts": ref.counts}  # fmt: skip
            if ref.type == "numeric":
                entry["edges"] = np.asarray(ref.edges, dtype=np.float64)
                entry["groups"] = np.asarray(ref.groups, dtype=np.int64)
            else:
                core, values, offsets = ref.vocab
                entry.update(kind=ref.kind, core=core, values=values)
                if offsets is not None:
                    entry["offsets"] = offsets
            out.append(entry)
        return out

    @classmethod
    def _from_spec(cls, entries, tensor) -> DriftReference:
        """A reference from ``_spec``'s form as an artifact stores it (``tensor``: an array
        by name), validated: what monitors rely on."""
        if not isinstance(entries, list):
            raise ArtifactError("not a valid artifact: malformed drift reference")
        columns = {}
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("name"), str):
                raise ArtifactError("not a valid artifact: malformed drift reference")
            name, rows, missing = e["name"], e.get("rows"), e.get("missing")
            counts = tensor(e.get("counts"))
            ok = isinstance(rows, int) and isinstance(missing, int) and 0 <= missing <= rows
            ok = ok and counts.dtype == np.int64 and counts.ndim == 1 and not (counts < 0).any()
            if e.get("type") == "numeric" and ok:
                edges, groups = tensor(e.get("edges")), tensor(e.get("groups"))
                ok = (
                    edges.dtype == np.float64
                    and edges.ndim == 1
                    and np.isfinite(edges).all()
                    and not (np.diff(edges) <= 0).any()
                    and counts.size == edges.size + 1
                    and groups.shape == counts.shape
                    and groups.dtype == np.int64
                    and not ((groups < 0) | (groups >= COARSE_BINS)).any()
                )
                if ok:
                    columns[name] = ColumnReference(
                        name, "numeric", rows, missing, counts, edges=edges, groups=groups
                    )
            elif e.get("type") == "categorical" and ok:
                kind, core = e.get("kind"), e.get("core")
                ok = kind in CORE_KIND and CORE_KIND[kind] == core
                if ok:
                    offsets = tensor(e["offsets"]) if "offsets" in e else None
                    vocab = (core, tensor(e.get("values")), offsets)
                    ref = ColumnReference(
                        name, "categorical", rows, missing, counts, kind=kind, vocab=vocab
                    )
                    try:
                        ok = len(ref.index()) == counts.size  # checks sorted, distinct, offsets
                    except (FastprepError, ValueError, TypeError):
                        ok = False
                    columns[name] = ref
            else:
                ok = False
            if not ok:
                raise ArtifactError(f"invalid drift reference of column {name!r}")
        return cls(columns)

    @classmethod
    def _of(cls, acc: dict) -> DriftReference:
        columns = {}
        for name, (kind, held, rows, missing) in acc.items():
            if kind == "numeric":
                columns[name] = _numeric_reference(name, held, rows, missing)
            else:
                core, values, offsets, counts, _ = held.columns[0]
                columns[name] = ColumnReference(
                    name, "categorical", rows, missing, np.asarray(counts, dtype=np.int64),
                    kind=held.kinds[0], vocab=(core, values, offsets),
                )  # fmt: skip
        return cls(columns)


@dataclass
class _Window:
    """A monitor's live counts for one column."""

    counts: np.ndarray
    missing: int = 0
    unseen: int = 0
    rows: int = 0


def _fractions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros(counts.size)


def psi(train: np.ndarray, live: np.ndarray) -> float:
    """Population stability index of two count vectors (fractions floored at PSI_FLOOR)."""
    p = np.maximum(_fractions(train), PSI_FLOOR)
    q = np.maximum(_fractions(live), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(train: np.ndarray, live: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of two count vectors."""
    p, q = _fractions(train), _fractions(live)
    if not p.sum() or not q.sum():
        return math.nan
    m = (p + q) / 2

    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))

    return math.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2))


def ks_binned(train: np.ndarray, live: np.ndarray) -> float:
    """Largest gap between the two CDFs at the bins' upper edges."""
    p, q = _fractions(train), _fractions(live)
    if not p.sum() or not q.sum():
        return math.nan
    return float(np.max(np.abs(np.cumsum(p) - np.cumsum(q))))


def _numeric_counts(col, name: str, edges: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Bin counts of a numeric column. An Arrow float64 column without nulls is read in place,
    chunk by chunk, unless it is large and in many chunks: then one copy lets the count split
    across cores."""
    if isinstance(col, pa.ChunkedArray) and pa.types.is_float64(col.type) and not col.null_count:
        chunks = [chunk.to_numpy(zero_copy_only=True) for chunk in col.chunks]
        if len(chunks) == 1 or len(col) < 1 << 16:
            counts, missing = np.zeros(edges.size + 1, dtype=np.int64), 0
            for values in chunks:
                c, m = kernels().bin_counts(values, edges)
                counts, missing = counts + c, missing + m
            return counts, missing, len(col)
        # Many chunks of a large column: one copy, so that the count splits across cores.
        counts, missing = kernels().bin_counts(np.concatenate(chunks), edges)
        return counts, missing, len(col)
    values = np.ascontiguousarray(float_column(col, name, "DriftMonitor"), dtype=np.float64)
    counts, missing = kernels().bin_counts(values, edges)
    return counts, missing, values.size


def _row_position(v, name: str, numeric: bool, table) -> int:
    """Where one value of a request row counts: its bin (numeric), its category's index, or
    `_MISSING` / `_UNSEEN`."""
    if numeric:
        if type(v) is not float:
            if v is None:
                return _MISSING
            if not isinstance(v, (numbers.Real, np.number)):
                raise SchemaError(f"DriftMonitor: column {name!r} holds {v!r}, not a number")
        # NaN, of any float type, is missing.
        return _MISSING if v != v else bisect_left(table, v)
    if v is None or (type(v) is float and v != v):
        return _MISSING
    return table.get(v, _UNSEEN)


class DriftMonitor:
    """Live drift statistics of a fitted Pipeline or ColumnTransformer against its training
    profile (see the module docstring): of every column it profiled (a ColumnTransformer
    profiles the columns its transformers read, not a label or other column present at fit),
    or of ``columns`` only."""

    def __init__(self, fitted, *, thresholds: dict | None = None, columns=None):
        try:
            reference = fitted.drift_reference_
        except AttributeError:
            reference = None
        if reference is None:
            raise ParameterError(
                "DriftMonitor needs a Pipeline or ColumnTransformer fitted by fastprep (it "
                "keeps the training profile, drift_reference_; one converted from "
                "scikit-learn has none, as scikit-learn keeps no profile of its training data)"
            )
        unknown = set(thresholds or {}) - set(DEFAULT_THRESHOLDS)
        if unknown:
            raise ParameterError(f"DriftMonitor: unknown thresholds {sorted(unknown)}")
        if columns is not None:
            absent = [c for c in columns if c not in reference.columns]
            if absent:
                raise ParameterError(
                    f"DriftMonitor: no training profile for the column(s) {absent}; profiled: "
                    f"{sorted(reference.columns)}"
                )
            reference = DriftReference({c: reference.columns[c] for c in columns})
        self.reference: DriftReference = reference
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
        self._owner = fitted
        self.reset()

    def reset(self) -> DriftMonitor:
        """Start a new window: every live count back to zero."""
        # Per column, a list of counts by position: one per bin or category, then unseen
        # (index -2, `_UNSEEN`) and missing (index -1, `_MISSING`).
        self._pending = {
            name: [0] * (ref.counts.size + 2) for name, ref in self.reference.columns.items()
        }
        self._pending_rows = 0
        self.__dict__.pop("_specs", None)
        self._windows = {
            name: _Window(np.zeros(ref.counts.size, dtype=np.int64))
            for name, ref in self.reference.columns.items()
        }
        return self

    # -- counting ------------------------------------------------------------------------------

    def _count(self, frame, tallies: dict | None = None) -> dict[str, _Window]:
        """The windows of a batch. ``tallies`` (from a compiled plan's run of the same batch):
        column name -> (vocabulary, lookup code counts); a column whose vocabulary is the
        reference's takes its counts from there instead of being looked up again."""
        absent = [n for n in self.reference.columns if n not in frame.columns]
        if absent:
            raise SchemaError(f"DriftMonitor: the input lacks the column(s) {absent}")
        out = {}
        for name, ref in self.reference.columns.items():
            col = frame.columns[name]
            if ref.type == "numeric":
                counts, missing, rows = _numeric_counts(col, name, ref.edges)
                out[name] = _Window(counts, missing, 0, rows)
                continue
            tally = (tallies or {}).get(name)
            if tally is not None and self._same_vocab(name, tally[0]):
                found, n = tally[1], ref.counts.size
                out[name] = _Window(
                    found[:n].astype(np.int64), int(found[n]), int(found[n + 1]), frame.rows
                )
                continue
            column = categorical_column(col, f"column {name!r}")
            if column.kind != ref.kind:
                column = coerce(column, ref.kind, f"column {name!r}")
            (found,) = kernels().code_counts([ref.index()], [column.chunks])
            n = ref.counts.size
            out[name] = _Window(found[:n], int(found[n]), int(found[n + 1]), column.length)
        return out

    def _same_vocab(self, name: str, vocab: tuple) -> bool:
        """Whether an encoder's vocabulary is the reference's categories of ``name``, so that
        its lookup codes are the monitor's positions (cached per vocabulary object)."""
        cache = self.__dict__.setdefault("_vocab_checks", {})
        hit = cache.get((name, id(vocab)))
        if hit is not None and hit[0] is vocab:
            return hit[1]
        ref = self.reference.columns[name].vocab
        same = (
            ref is not None
            and len(ref) == len(vocab)
            and ref[0] == vocab[0]
            and all(
                (a is None and b is None)
                or (a is not None and b is not None and np.array_equal(a, b))
                for a, b in zip(ref[1:], vocab[1:], strict=True)
            )
        )
        cache[(name, id(vocab))] = (vocab, same)
        return same

    def _add(self, windows: dict[str, _Window]) -> None:
        for name, w in windows.items():
            mine = self._windows[name]
            mine.counts = mine.counts + w.counts
            mine.missing += w.missing
            mine.unseen += w.unseen
            mine.rows += w.rows

    def update(self, data) -> DriftMonitor:
        """Count a batch (any table the fitted object accepts). A bad batch raises and
        changes nothing: every column is counted before any count is added."""
        self._add(self._count(Frame.of(data, "DriftMonitor")))
        return self

    def update_row(self, row: dict) -> DriftMonitor:
        """Count one request row (a dict of plain Python values by column name), in plain
        Python: a bisection per numeric column, a dict lookup per categorical one, counts
        kept aside until the window is read. A bad row raises and changes nothing."""
        if not isinstance(row, dict):
            raise SchemaError(f"DriftMonitor: a row is a dict, got {type(row).__name__}")
        specs = self._row_specs()
        k = 0
        try:
            # `_row_position`, written out: a call per column would cost a tenth of the row.
            for k, (name, numeric, table, pending) in enumerate(specs):  # noqa: B007
                v = row[name]
                if numeric:
                    if type(v) is not float:
                        if v is None:
                            pending[_MISSING] += 1
                            continue
                        if not isinstance(v, (numbers.Real, np.number)):
                            raise SchemaError(
                                f"DriftMonitor: column {name!r} holds {v!r}, not a number"
                            )
                    pending[_MISSING if v != v else bisect_left(table, v)] += 1
                elif v is None or (type(v) is float and v != v):
                    pending[_MISSING] += 1
                else:
                    pending[table.get(v, _UNSEEN)] += 1
            k = len(specs)
        except (KeyError, SchemaError, TypeError, ValueError) as exc:
            # A bad row changes nothing: take back the counts of the columns before it.
            for name, numeric, table, pending in specs[:k]:
                pending[_row_position(row[name], name, numeric, table)] -= 1
            if isinstance(exc, SchemaError):
                raise
            absent = [n for n, _, _, _ in specs if n not in row]
            if not absent:  # an unhashable or uncomparable value
                raise SchemaError(f"DriftMonitor: column {name!r}: {exc}") from None
            raise SchemaError(f"DriftMonitor: the row lacks the column(s) {absent}") from None
        self._pending_rows += 1
        return self

    def _row_specs(self) -> list:
        specs = self.__dict__.get("_specs")
        if specs is None:
            specs = [
                (name, ref.type == "numeric",
                 ref.edges.tolist() if ref.type == "numeric" else ref.lookup(),
                 self._pending[name])
                for name, ref in self.reference.columns.items()
            ]  # fmt: skip
            self._specs = specs
        return specs

    def _flush(self) -> None:
        """Fold the counts of rows given to ``update_row`` into the window."""
        if not self._pending_rows:
            return
        for name, pending in self._pending.items():
            w = self._windows[name]
            w.counts += np.asarray(pending[:-2], dtype=w.counts.dtype)
            w.missing += pending[_MISSING]
            w.unseen += pending[_UNSEEN]
            w.rows += self._pending_rows
            pending[:] = [0] * len(pending)  # in place: the row specs hold this list
        self._pending_rows = 0

    def merge(self, other: Self) -> Self:
        """Add ``other``'s window (a monitor of the same fitted object) to this one."""
        self._flush()
        other._flush()
        if other.reference is not self.reference and set(other._windows) != set(self._windows):
            raise SchemaError("DriftMonitor: cannot merge monitors of different columns")
        for name, w in other._windows.items():
            if self._windows[name].counts.shape != w.counts.shape:
                raise SchemaError(f"DriftMonitor: column {name!r} has different bins")
        self._add(other._windows)
        return self

    def attach(self) -> DriftMonitor:
        """Feed this monitor from the fitted object's own ``transform``, ``transform_one`` and
        ``transform_records`` calls, from the columns they already read (opt-in; ``detach``
        stops it). A batch that fails to transform is not counted."""
        self._fitted_monitors().append(self)
        # The owner's native request entry (if installed) skips monitors: drop it, so that
        # requests take the method that feeds them.
        for name in NATIVE_ENTRIES:
            self._owner.__dict__.pop(name, None)
        return self

    def detach(self) -> DriftMonitor:
        monitors = self._fitted_monitors()
        if self in monitors:
            monitors.remove(self)
        return self

    def _fitted_monitors(self) -> list:
        owner = self._owner
        if owner is None:
            raise ParameterError("DriftMonitor: this monitor was not made from a fitted object")
        return owner.__dict__.setdefault("_drift_monitors", [])

    # -- the report ----------------------------------------------------------------------------

    def report(self) -> dict[str, dict[str, Any]]:
        """Per column: psi, js, ks (numeric), missing_train, missing_live, missing_change,
        unseen (categorical), rows and drifted."""
        self._flush()
        t = self.thresholds
        out = {}
        for name, ref in self.reference.columns.items():
            w = self._windows[name]
            if ref.type == "numeric":
                train = np.bincount(ref.groups, weights=ref.counts, minlength=COARSE_BINS)
                live = np.bincount(ref.groups, weights=w.counts, minlength=COARSE_BINS)
                stats = {"ks": ks_binned(ref.counts, w.counts)}
            else:
                train = np.append(ref.counts, 0)
                live = np.append(w.counts, w.unseen)
                stats = {"unseen": w.unseen / w.rows if w.rows else math.nan}
            stats["psi"] = psi(train, live) if w.rows - w.missing else math.nan
            stats["js"] = js_distance(train, live)
            m_train = ref.missing / ref.rows if ref.rows else 0.0
            m_live = w.missing / w.rows if w.rows else math.nan
            stats.update(
                missing_train=m_train,
                missing_live=m_live,
                missing_change=m_live - m_train,
                rows=w.rows,
            )
            over = [stats.get(key, math.nan) > t[key] for key in ("psi", "js", "ks", "unseen")] + [
                abs(stats["missing_change"]) > t["missing_change"]
            ]
            stats["drifted"] = bool(w.rows >= t["min_rows"] and any(over))
            out[name] = {"type": ref.type, **stats}
        return out

    def report_table(self):
        """``report()`` as a pyarrow Table, one row per column."""
        report = self.report()
        keys = ["type", "rows", "psi", "js", "ks", "missing_train", "missing_live",
                "missing_change", "unseen", "drifted"]  # fmt: skip
        columns = {"column": list(report)}
        for key in keys:
            columns[key] = [r.get(key) for r in report.values()]
        return pa.table(columns)

    @property
    def drifted(self) -> list[str]:
        """The columns flagged in the current window."""
        return [name for name, r in self.report().items() if r["drifted"]]
