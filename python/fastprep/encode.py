"""Categorical encoders: OneHotEncoder, OrdinalEncoder and CountEncoder.

All three share one fit (``CategoryCounts``: each column's categories with their counts, a
mergeable accumulator) and one transform path: the values of each column are looked up in a
table built once per fit (so a transform costs the same with 10 or 1M categories), giving a
*code* per value (category rank, missing, or unknown); a per-column table computed from the
fitted state turns codes into output. Policies for missing, unknown and infrequent values live
in those tables.

Missing values (None, NaN, Arrow null, and NaN inside float columns) are one case of their
own, never an unknown or infrequent category:

===================  ===========================================================================
encoder              what a missing value gets
===================  ===========================================================================
OneHotEncoder        its own column ``<name>_nan`` when missing values were seen at fit (or
                     ``categories`` ends with NaN); otherwise it is handled like an unknown
                     category (``handle_unknown``), with a message that says "missing".
OrdinalEncoder       ``encoded_missing_value`` (default NaN), whether or not fit saw missing
                     values.
CountEncoder         the number (or frequency) of missing values seen at fit (0 if none).
===================  ===========================================================================

Categories are sorted as scikit-learn sorts them: strings by code point, numbers ascending,
NaN (missing) last. Categories given explicitly keep the given order.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from fastprep import _backend
from fastprep._base import Fitted
from fastprep._input import (
    CategoricalColumn,
    Frame,
    by_name,
    coerce,
    column_label,
    no_columns,
    row_count,
)
from fastprep._output import csr, output_dtype, run_dense, scipy_sparse
from fastprep.accumulators import CORE_KIND, CategoryCounts, decode_values
from fastprep.exceptions import (
    DataError,
    ParameterError,
    SchemaError,
    UnknownCategoryError,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CountEncoder", "OneHotEncoder", "OrdinalEncoder"]

#: The name scikit-learn gives the output column of grouped infrequent categories.
INFREQUENT_NAME = "infrequent_sklearn"


def _is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and v != v)


@dataclass(frozen=True, eq=False)
class _Column:
    """One fitted column. ``categories`` is in ``categories_`` order (without missing);
    ``order[r]`` is the position in it of the category of sorted rank ``r`` (the lookup code),
    None when that is ``r`` itself (the categories found by fit: loading 1M of them makes no
    1M-entry permutation)."""

    kind: str
    vocab: tuple  # (core_kind, values, offsets)
    given: np.ndarray | None  # the categories as given (None: the sorted vocabulary)
    order: np.ndarray | None
    counts: np.ndarray  # per position (integers, maybe narrower than int64: see CategoryCounts)
    missing: int  # missing values seen at fit
    has_missing: bool  # missing is a category
    infrequent: np.ndarray | None  # bool per position, or None when none is infrequent

    @property
    def n_codes(self) -> int:
        return len(self.counts)

    def by_code(self, per_position: np.ndarray) -> np.ndarray:
        """``per_position`` (a value per category, in ``categories_`` order) in code order;
        ``per_position`` itself when the two orders agree."""
        return per_position if self.order is None else per_position[self.order]

    @cached_property
    def categories(self) -> np.ndarray:
        """Decoded on first use: fitting or loading 1M categories builds no Python string."""
        if self.given is not None:
            return self.given
        return decode_values(self.kind, self.vocab)

    @cached_property
    def public(self) -> np.ndarray:
        """``categories_`` of this column: the categories, then NaN when missing is one."""
        if not self.has_missing:
            return self.categories
        if self.kind == "float":
            return np.append(self.categories.astype(np.float64), np.nan)
        return np.append(self.categories.astype(object), np.array([np.nan], dtype=object))


def _encode_values(kind: str, values: list) -> tuple:
    """The sorted vocabulary ``(core_kind, values, offsets)`` of explicit categories, and the
    position of each sorted entry in the given order."""
    if kind == "str":
        keys = [str(v).encode("utf-8") for v in values]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        data = b"".join(keys[i] for i in order)
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(keys[i]) for i in order], out=offsets[1:])
        vocab = ("str", np.frombuffer(data, dtype=np.uint8).copy(), offsets)
        return vocab, np.asarray(order, dtype=np.int64)
    dtype = np.float64 if kind == "float" else np.int64
    array = np.asarray(values, dtype=dtype)
    if kind == "float":
        array = np.where(array == 0.0, 0.0, array)
    order = np.argsort(array, kind="stable")
    return (CORE_KIND[kind], array[order], None), order


def _identify_infrequent(counts, n_samples, min_frequency, max_categories) -> np.ndarray | None:
    """scikit-learn's rule: below ``min_frequency`` (a count, or a fraction of all rows), then
    the smallest until at most ``max_categories - 1`` frequent ones remain (stable ordering)."""
    if isinstance(min_frequency, numbers.Integral):
        mask = counts < min_frequency
    elif isinstance(min_frequency, numbers.Real):
        mask = counts < n_samples * min_frequency
    else:
        mask = np.zeros(counts.shape[0], dtype=bool)
    n_current = counts.size - mask.sum() + 1
    if max_categories is not None and max_categories < n_current:
        frequent = max_categories - 1
        if frequent == 0:
            mask[:] = True
        else:
            smallest = np.argsort(counts, kind="mergesort")[:-frequent]
            mask[smallest] = True
    return mask if mask.any() else None


class _Encoder(Fitted, abstract=True):
    """The parameter protocol, the mergeable fit and the lookup shared by the encoders."""

    _reads_strings = True

    _infrequent_params = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]  # the output is of ``dtype``
        return tags

    # -- parameters ---------------------------------------------------------------------------

    def _validate_params(self) -> None:
        if not (isinstance(self.categories, str) and self.categories == "auto"):
            if isinstance(self.categories, str) or not hasattr(self.categories, "__len__"):
                raise ParameterError(
                    f"{self._name}: categories must be 'auto' or a list of lists, got "
                    f"{self.categories!r}"
                )
        if not self._infrequent_params:
            return
        mf = self.min_frequency
        if mf is not None:
            if isinstance(mf, bool) or not isinstance(mf, numbers.Real):
                raise ParameterError(f"{self._name}: min_frequency must be a number, got {mf!r}")
            if isinstance(mf, numbers.Integral) and mf < 1:
                raise ParameterError(f"{self._name}: min_frequency must be >= 1, got {mf}")
            if not isinstance(mf, numbers.Integral) and not 0.0 < mf < 1.0:
                raise ParameterError(
                    f"{self._name}: a fractional min_frequency must be in (0, 1), got {mf}"
                )
        mc = self.max_categories
        if mc is not None and (
            isinstance(mc, bool) or not isinstance(mc, numbers.Integral) or mc < 1
        ):
            raise ParameterError(f"{self._name}: max_categories must be an int >= 1, got {mc!r}")

    @property
    def _infrequent_enabled(self) -> bool:
        return self._infrequent_params and (
            self.min_frequency is not None or self.max_categories is not None
        )

    # -- input ------------------------------------------------------------------------------

    def _read(self, X, fitting: bool = False) -> tuple[list[str] | None, list, int]:
        frame = Frame.of(X, self._name)
        if not frame.names:
            raise no_columns(self._name, rows=frame.rows)
        names, columns = frame.categorical_columns(self._name)
        rows = row_count(columns)
        if fitting and rows == 0:
            raise DataError(f"{self._name}: cannot fit on 0 rows")
        return names, columns, rows

    def _fitted_columns(self, X, kinds, fitting=False) -> tuple[list[CategoricalColumn], int]:
        """The fitted columns of ``X`` (in fitted order, in the fitted ``kinds``) and the
        number of rows."""
        names, columns, rows = self._read(X, fitting)
        at = self._fitted_positions(names, len(columns), by_name(X))
        if at is not None:
            columns = [columns[j] for j in at]
        columns = [
            coerce(c, k, self._label(j)) if c.kind != k else c
            for j, (c, k) in enumerate(zip(columns, kinds, strict=True))
        ]
        return columns, rows

    # -- fitting ------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "accumulator_")

    def _batch(self, X) -> tuple[list | None, CategoryCounts]:
        names, columns, _ = self._read(X, fitting=True)
        return names, CategoryCounts.of_columns(columns)

    def fit(self, X, y=None) -> Self:
        """Learn each column's categories (and their counts) from ``X``."""
        self._validate_params()
        names, counts = self._batch(X)
        return self._commit(counts, names)

    def partial_fit(self, X, y=None) -> Self:
        """Add the rows of ``X`` to the fit (the first call starts one)."""
        self._validate_params()
        if not self.is_fitted:
            return self.fit(X)
        columns, _ = self._fitted_columns(X, self.accumulator_.kinds, fitting=True)
        counts = CategoryCounts.of_columns(columns)
        return self._commit(self.accumulator_.merge(counts), self._names_or_none())

    def merge(self, other: Self) -> Self:
        """Add the fit of ``other`` (same class and parameters, fitted on other rows)."""
        if type(other) is not type(self):
            raise ParameterError(f"cannot merge a {type(other).__name__} into a {self._name}")
        if not _same(other.get_params(), self.get_params()):
            raise ParameterError(f"{self._name}: cannot merge fits with different parameters")
        self._check_fitted()
        other._check_fitted()
        if other._names_or_none() != self._names_or_none():
            raise SchemaError(f"{self._name}: cannot merge fits over different columns")
        return self._commit(self.accumulator_.merge(other.accumulator_), self._names_or_none())

    # -- the state: the category counts ------------------------------------------------------

    def _fitted_values(self) -> dict[str, Any]:
        return {**self._record_values(), "counts": self.accumulator_.to_state()}

    def _restore(self, values: dict[str, Any]) -> None:
        names = self._restore_record(values)
        # The vocabularies' order is checked by the lookup tables the fit builds anyway.
        counts = CategoryCounts.from_state(values.pop("counts", None), check_values=False)
        if values:
            raise SchemaError(f"{self._name} has no fitted attribute {sorted(values)[0]!r}")
        if self.n_features_in_ != counts.n_features:
            raise SchemaError(f"{self._name}: the counts are not of its columns")
        self._commit(counts, names)

    def _reads_tables(self, frame=None, names=None) -> bool:
        return True

    def _commit(self, counts: CategoryCounts, names):
        if self.categories != "auto" and len(self.categories) != counts.n_features:
            raise SchemaError(
                f"{self._name}: categories has {len(self.categories)} lists, but X has "
                f"{counts.n_features} columns"
            )
        columns = [
            self._fit_column(j, kind, c, counts.n_rows, names)
            for j, (kind, c) in enumerate(zip(counts.kinds, counts.columns, strict=True))
        ]
        fitted = self._extra_attributes(columns)
        # Everything is computed; now assign, so that a failure above changes nothing.
        self._columns = columns
        self._forget()
        self._set_record(counts.n_features, names)
        for name, value in fitted.items():
            setattr(self, name, value)
        self.accumulator_ = counts
        self._index_list()  # the lookup tables, built once per fit
        return self

    def _extra_attributes(self, columns: list[_Column]) -> dict[str, Any]:
        return {}

    def _fit_column(self, j: int, kind: str, counted: tuple, n_rows: int, names) -> _Column:
        label = column_label(j, names)
        seen_counts = counted[3]  # int64, or narrower as loaded: kept, not widened
        missing = int(counted[4])
        if self.categories == "auto":
            vocab = counted[:3]
            categories, order, counts = None, None, seen_counts
            has_missing = missing > 0
        else:
            given = list(self.categories[j])
            has_missing = bool(given) and _is_nan(given[-1])
            if has_missing:
                given = given[:-1]
            if any(_is_nan(v) for v in given):
                raise ParameterError(
                    f"{self._name}: {label}: NaN/None must be the last of the given categories"
                )
            if kind == "str" and not all(isinstance(v, str) for v in given):
                raise ParameterError(
                    f"{self._name}: {label}: the given categories must be strings, like the "
                    "column's values"
                )
            try:
                vocab, order = _encode_values(kind, given)
            except (TypeError, ValueError) as exc:
                raise ParameterError(
                    f"{self._name}: {label}: given categories do not match the column's "
                    f"{kind} values: {exc}"
                ) from None
            sorted_values = vocab[1]
            if (kind != "str" and np.any(np.diff(np.asarray(sorted_values)) == 0)) or (
                kind == "str" and len(set(given)) != len(given)
            ):
                raise ParameterError(f"{self._name}: {label}: the given categories repeat a value")
            if kind != "str" and not np.array_equal(order, np.arange(len(order))):
                raise ParameterError(
                    f"{self._name}: {label}: numeric categories must be given in ascending order"
                )
            categories = np.array(given, dtype=object if kind == "str" else None)
            if kind == "bool":
                categories = categories.astype(bool)
            # Fit counts of the given categories; a seen value outside them is unknown.
            index = _backend.kernels().CategoryIndex(*vocab)
            found = _lookup_counts(index, counted)
            counts = np.zeros(len(given), dtype=np.int64)
            known = found < len(given)
            counts[order[found[known]]] = seen_counts[known]
            unknown_values = decode_values(kind, counted)[~known]
            refuse = getattr(self, "handle_unknown", "error") == "error"
            if refuse and (unknown_values.size or (missing and not has_missing)):
                shown = unknown_values[:5].tolist() + (
                    ["<missing>"] if missing and not has_missing else []
                )
                raise UnknownCategoryError(
                    f"{self._name}: {label}: found categories {shown} during fit that are not "
                    "in the given categories"
                )
            vocab = tuple(vocab)
        infrequent = None
        if self._infrequent_enabled:
            infrequent = _identify_infrequent(
                counts, n_rows, self.min_frequency, self.max_categories
            )
        return _Column(
            kind,
            vocab,
            categories,
            None if order is None else np.asarray(order, dtype=np.int64),
            counts,
            missing,
            has_missing,
            infrequent,
        )

    @property
    def categories_(self) -> list[np.ndarray]:
        """Per column, the categories in output order (NaN last when missing is one)."""
        self._check_fitted()
        return [c.public for c in self._columns]

    @property
    def infrequent_categories_(self) -> list[np.ndarray | None]:
        """Per column, the categories grouped as infrequent (None where none is)."""
        self._check_fitted()
        return [None if c.infrequent is None else c.categories[c.infrequent] for c in self._columns]

    # -- transforming -------------------------------------------------------------------------

    def _index_list(self, backend: str | None = None) -> list:
        """A backend's (default: the one in effect) lookup table of each column, built once
        and kept."""
        backend = backend or _backend.get_backend()
        module = _backend._core if backend == "rust" else _backend.reference
        return self._cached(
            ("indexes", backend), lambda: [module.CategoryIndex(*c.vocab) for c in self._columns]
        )

    def _input_columns(self, X) -> tuple[list[CategoricalColumn], int]:
        """The fitted columns of ``X``, in fitted order and kind, and the number of rows."""
        self._check_fitted()
        return self._fitted_columns(X, [f.kind for f in self._columns])

    def _refuse(self, j: int, column: CategoricalColumn, missing: bool):
        """Raise for the first unknown (or missing) value of column ``j``: a second lookup of
        that column, on the error path only, finds its row."""
        c = self._columns[j]
        codes, _, _ = _backend.kernels().lookup_codes(
            [self._index_list()[j]], [column.chunks], column.length
        )
        code = c.n_codes if missing else c.n_codes + 1
        row = int(np.flatnonzero(codes[0] == code)[0])
        if missing:
            raise UnknownCategoryError(
                f"{self._name}: {self._label(j)}: missing value (None/NaN/null) at row {row}, "
                "but no missing value was seen during fit; set handle_unknown to encode it"
            )
        raise UnknownCategoryError(
            f"{self._name}: {self._label(j)}: unknown category {column.value(row)!r} at row "
            f"{row} (not seen during fit); set handle_unknown to encode unknown categories"
        )

    def _tables(self) -> Any:
        key = ("tables", *(repr(v) for v in self.get_params(deep=False).values()))
        return self._cached(key, self._checked_tables)

    def _checked_tables(self) -> Any:
        self._validate_params()
        return self._build_tables()

    def _build_tables(self) -> Any:
        raise NotImplementedError

    # -- the compiled plan ---------------------------------------------------------------------

    def _plan_part(self, fills: list[str] | None = None) -> dict | None:
        """This encoder's lookup block in a compiled plan (``fastprep._plan``) and what each
        input refuses. ``fills``: per column, the value a string imputer before this encoder
        gives a missing value; the plan then looks a missing value up as that value."""
        self._validate_params()
        tables = list(self._plan_tables())
        identity = [self._identity_table(c) for c in self._columns]
        refuses = [self._refuses(c) for c in self._columns]
        if fills is not None:
            for j, code in enumerate(self._codes_of(fills)):
                n = self._columns[j].n_codes
                tables[j] = np.array(tables[j])  # a copy: the encoder's own stays as it is
                tables[j][n] = tables[j][code]
                unknown = refuses[j][0]
                refuses[j] = (unknown, unknown and code == n + 1)
        rust = self._index_list("rust") if _backend._core is not None else None
        vocabs = []
        for j, c in enumerate(self._columns):
            kind, values, offsets = c.vocab
            vocab = {"kind": kind, "values": values}
            if kind == "str":
                vocab = {"kind": kind, "data": values, "offsets": offsets}
            if rust is not None:
                vocab["index"] = rust[j]  # shared with the plan, not built twice
            vocabs.append(vocab)
        saved = [
            {"identity": len(t) - 2, "tail": t[-2:]} if same else t
            for t, same in zip(tables, identity, strict=True)
        ]
        inputs = [
            {"kind": CORE_KIND[c.kind], "refuse_unknown": bool(u), "refuse_missing": bool(m)}
            for c, (u, m) in zip(self._columns, refuses, strict=True)
        ]
        return {"block": {**self._plan_block(), "vocabs": vocabs, "tables": saved},
                "inputs": inputs}  # fmt: skip

    def _codes_of(self, values: list[str]) -> list[int]:
        """The lookup code of each column's value (a string), in one call."""
        backend = "rust" if _backend._core is not None else "python"
        kernels = _backend._core or _backend.reference
        chunks = []
        for value in values:
            raw = str(value).encode("utf-8")
            offsets = np.array([0, len(raw)], dtype=np.int32)
            chunks.append([("utf8", offsets, np.frombuffer(raw, np.uint8), None, 0)])
        codes, _, _ = kernels.lookup_codes(self._index_list(backend), chunks, 1)
        return [int(c) for c in codes[:, 0]]

    def _identity_table(self, c: _Column) -> bool:
        """Whether the plan's table maps each category's code to itself (saved short)."""
        return False

    def _refuses(self, c: _Column) -> tuple[bool, bool]:
        """Whether an unknown value, and whether a missing value, of column ``c`` make the
        transform raise or warn (the plan then leaves the batch to the step-by-step path)."""
        return self.handle_unknown == "error", False

    def _plan_tables(self) -> list[np.ndarray]:
        """Per column, the plan's table: an output per lookup code. (Ordinal and count: the
        encoder's values, rounded to its dtype as its own output is.)"""
        dtype = np.dtype(self.dtype)
        return [np.asarray(t).astype(dtype).astype(np.float64) for t in self._tables()]

    def _plan_block(self) -> dict:
        """The block's own fields (besides vocabularies and tables)."""
        return {"block": "gather"}

    def _gather(self, X) -> np.ndarray:
        """The ordinal and count transforms: one table value per cell; unknown values raise
        under ``handle_unknown="error"``."""
        self._validate_params()
        dtype = output_dtype(self.dtype, self._name)
        columns, rows = self._input_columns(X)
        out, unknown, _ = run_dense(
            _backend.kernels().encode_gather,
            dtype,
            self._index_list(),
            [c.chunks for c in columns],
            self._tables(),
            rows,
        )
        if self.handle_unknown == "error":
            for j in range(len(self._columns)):
                if unknown[j]:
                    self._refuse(j, columns[j], missing=False)
        return out

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def _input_names(self, input_features=None) -> list[str]:
        self._check_fitted()
        if input_features is None:
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                return [f"x{i}" for i in range(self.n_features_in_)]
            return [str(n) for n in names]
        names = [str(n) for n in input_features]
        if len(names) != self.n_features_in_:
            raise SchemaError(
                f"{self._name}: input_features has {len(names)} names, but "
                f"{self.n_features_in_} columns were fitted"
            )
        return names

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self._input_names(input_features), dtype=object)

    def _n_features_out(self) -> int:
        self._check_fitted()
        return int(self.n_features_in_)


def _same(a: Any, b: Any) -> bool:
    return repr(a) == repr(b)


def _lookup_counts(index, counted: tuple) -> np.ndarray:
    """The code of each counted category in another vocabulary (for explicit categories)."""
    core_kind, values, offsets, _, _ = counted
    if core_kind == "str":
        n = len(offsets) - 1
        chunk = ("utf8", np.asarray(offsets, dtype=np.int64), values, None, 0)
    else:
        n = len(values)
        chunk = (core_kind, values, None)
    codes, _, _ = _backend.kernels().lookup_codes([index], [[chunk]], n)
    return codes[0].astype(np.int64)


class OneHotEncoder(_Encoder):
    """One output column per category of each input column (scikit-learn's OneHotEncoder).

    Parameters follow scikit-learn: ``categories`` ("auto" or one list per column),
    ``drop`` (None, "first", "if_binary"), ``handle_unknown`` ("error", "ignore",
    "infrequent_if_exist", "warn"), ``min_frequency`` and ``max_categories`` (group rare
    categories into one ``infrequent_sklearn`` column), ``sparse_output`` (scipy CSR, the
    default, needs scipy; else a dense NumPy array) and ``dtype``.

    Output columns per input column: frequent categories in ``categories_`` order, then the
    missing column (``<name>_nan``) if missing is a category, then ``<name>_infrequent_sklearn``.
    Unlike scikit-learn, a missing value is never grouped as infrequent (scikit-learn's
    OrdinalEncoder rule, applied to both encoders): ``max_categories`` counts the frequent
    categories and the infrequent column, and the missing column comes in addition.

    Example
    -------
    >>> import fastprep as fp
    >>> enc = fp.OneHotEncoder(sparse_output=False).fit({"color": ["red", "blue", "red"]})
    >>> enc.transform({"color": ["blue", "red"]})
    array([[1., 0.],
           [0., 1.]])
    >>> enc.get_feature_names_out().tolist()
    ['color_blue', 'color_red']
    """

    def __init__(
        self,
        *,
        categories="auto",
        drop=None,
        sparse_output: bool = True,
        dtype=np.float64,
        handle_unknown: str = "error",
        min_frequency=None,
        max_categories=None,
    ):
        self.categories = categories
        self.drop = drop
        self.sparse_output = sparse_output
        self.dtype = dtype
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.drop not in (None, "first", "if_binary"):
            raise ParameterError(
                f"{self._name}: drop must be None, 'first' or 'if_binary', got {self.drop!r}"
            )
        if self.handle_unknown not in ("error", "ignore", "infrequent_if_exist", "warn"):
            raise ParameterError(
                f"{self._name}: handle_unknown must be 'error', 'ignore', "
                f"'infrequent_if_exist' or 'warn', got {self.handle_unknown!r}"
            )
        output_dtype(self.dtype, self._name)

    def _layout(self, c: _Column) -> tuple[np.ndarray, int | None, int | None, int]:
        """Output index (before drop) per position, of missing, of infrequent; and width."""
        m = c.n_codes
        if c.infrequent is None:  # the common case, without the masks
            at = m + c.has_missing
            return np.arange(m), (m if c.has_missing else None), None, at
        infrequent = c.infrequent
        out = np.empty(m, dtype=np.int64)
        n_frequent = int(m - infrequent.sum())
        out[~infrequent] = np.arange(n_frequent)
        at = n_frequent
        missing_at = None
        if c.has_missing:
            missing_at, at = at, at + 1
        infrequent_at = None
        if infrequent.any():
            out[infrequent] = at
            infrequent_at, at = at, at + 1
        return out, missing_at, infrequent_at, at

    def _drop_index(self, width: int) -> int | None:
        if self.drop == "first":
            return 0
        if self.drop == "if_binary" and width == 2:
            return 0
        return None

    def _build_tables(self):
        tables, offsets, _names = [], [], []
        width = 0
        for c in self._columns:
            out, missing_at, infrequent_at, n_out = self._layout(c)
            dropped = self._drop_index(n_out)

            def final(t, dropped=dropped):
                if t is None or t == dropped:
                    return -1
                return t - 1 if dropped is not None and t > dropped else t

            if self.handle_unknown in ("infrequent_if_exist", "warn"):
                unknown = final(infrequent_at)
            else:
                unknown = -1
            table = np.empty(c.n_codes + 2, dtype=np.int32)
            t = c.by_code(out)  # ``final`` on every category at once (1M categories: 1M values)
            if dropped is not None:
                t = np.where(t == dropped, -1, np.where(t > dropped, t - 1, t))
            table[: c.n_codes] = t
            table[c.n_codes] = final(missing_at) if c.has_missing else unknown
            table[c.n_codes + 1] = unknown
            tables.append(table)
            offsets.append(width)
            width += n_out - (dropped is not None)
        return tables, offsets, width

    def _plan_tables(self):
        return self._tables()[0]

    def _plan_block(self) -> dict:
        _, offsets, width = self._tables()
        return {"block": "onehot", "offsets": [int(o) for o in offsets], "width": int(width)}

    def _identity_table(self, c: _Column) -> bool:
        return c.order is None and c.infrequent is None and self.drop is None

    def _refuses(self, c: _Column) -> tuple[bool, bool]:
        unknown = self.handle_unknown in ("error", "warn") or self.drop is not None
        return unknown, unknown and not c.has_missing

    def _extra_attributes(self, columns):
        if self.drop is None:
            return {"drop_idx_": None}
        drops = []
        for c in columns:
            out, missing_at, _infrequent_at, n_out = self._layout(c)
            d = self._drop_index(n_out)
            if d is None:
                drops.append(None)
            elif d == missing_at:
                drops.append(c.n_codes)
            else:
                drops.append(int(np.flatnonzero(out == d)[0]))
        return {"drop_idx_": None if self.drop is None else np.array(drops, dtype=object)}

    def transform(self, X):
        """One-hot encode ``X``: scipy CSR if ``sparse_output`` else a dense NumPy array."""
        self._validate_params()
        dtype = output_dtype(self.dtype, self._name)
        if self.sparse_output:
            scipy_sparse()  # before any work: a clear ImportError without scipy
        columns, rows = self._input_columns(X)
        tables, offsets, width = self._tables()
        k, indexes, chunks = _backend.kernels(), self._index_list(), [c.chunks for c in columns]
        if not self.sparse_output:
            out, unknown, missing = run_dense(
                k.encode_onehot_dense, dtype, indexes, chunks, tables, offsets, width, rows
            )
        else:
            indptr, indices, unknown, missing = k.encode_onehot_csr(
                indexes, chunks, tables, offsets, width, rows
            )
        with_unknown = []
        for j, c in enumerate(self._columns):
            unseen_missing = missing[j] > 0 and not c.has_missing
            if self.handle_unknown == "error":
                if unknown[j]:
                    self._refuse(j, columns[j], missing=False)
                if unseen_missing:
                    self._refuse(j, columns[j], missing=True)
            elif unknown[j] or unseen_missing:
                with_unknown.append(j)
        if with_unknown and (self.handle_unknown == "warn" or self.drop is not None):
            where = "the infrequent category" if self.handle_unknown != "ignore" else "all zeros"
            warnings.warn(
                f"{self._name}: unknown categories in columns "
                f"{[self._label(j) for j in with_unknown]} are encoded as {where}",
                UserWarning,
                stacklevel=2,
            )
        if not self.sparse_output:
            return out
        return csr(np.ones(indices.size, dtype=dtype), indices, indptr, (rows, width))

    def _transformed_categories(self, c: _Column) -> list:
        out, missing_at, infrequent_at, n_out = self._layout(c)
        names: list = [None] * n_out
        for p, t in enumerate(out):
            if infrequent_at is None or t != infrequent_at:
                names[t] = c.categories[p]
        if missing_at is not None:
            names[missing_at] = np.nan
        if infrequent_at is not None:
            names[infrequent_at] = INFREQUENT_NAME
        dropped = self._drop_index(n_out)
        if dropped is not None:
            del names[dropped]
        return names

    def _n_features_out(self) -> int:
        self._check_fitted()
        return int(self._tables()[2])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``<input name>_<category>`` for every output column, as scikit-learn names them."""
        inputs = self._input_names(input_features)
        names = [
            f"{name}_{cat}"
            for name, c in zip(inputs, self._columns, strict=True)
            for cat in self._transformed_categories(c)
        ]
        return np.asarray(names, dtype=object)

    def inverse_transform(self, X) -> np.ndarray:
        """Categories back from one-hot rows (dense or sparse): an object array. An all-zero
        block is the dropped category, or None (an ignored unknown); the infrequent column
        gives ``"infrequent_sklearn"``."""
        self._check_fitted()
        if hasattr(X, "toarray"):
            X = X.toarray()
        x = np.asarray(X)
        _, _, width = self._tables()
        if x.ndim != 2 or x.shape[1] != width:
            raise SchemaError(
                f"{self._name}: X has shape {x.shape}, but the transform outputs {width} columns"
            )
        out = np.empty((x.shape[0], len(self._columns)), dtype=object)
        at = 0
        for j, c in enumerate(self._columns):
            cats = self._transformed_categories(c)
            _, _, _, n_out = self._layout(c)
            dropped = self._drop_index(n_out)
            block = x[:, at : at + len(cats)]
            at += len(cats)
            empty = ~block.any(axis=1) if block.shape[1] else np.ones(x.shape[0], dtype=bool)
            picked = np.argmax(block, axis=1) if block.shape[1] else np.zeros(x.shape[0], int)
            col = (
                np.array([*cats, None], dtype=object)[picked]
                if cats
                else np.full(x.shape[0], None, dtype=object)
            )
            if dropped is not None:
                full = self._transformed_categories_undropped(c)
                col[empty] = full[dropped]
            else:
                col[empty] = None
            out[:, j] = col
        return out

    def _transformed_categories_undropped(self, c: _Column) -> list:
        drop, self.drop = self.drop, None
        try:
            return self._transformed_categories(c)
        finally:
            self.drop = drop


class OrdinalEncoder(_Encoder):
    """Each category's position in ``categories_`` as a number (scikit-learn's OrdinalEncoder).

    ``handle_unknown="use_encoded_value"`` writes ``unknown_value`` for unknown categories;
    missing values always get ``encoded_missing_value`` (default NaN), even when fit saw none
    (scikit-learn treats an unseen NaN as unknown). Infrequent categories (``min_frequency``,
    ``max_categories``) share the code after the frequent ones.

    Example
    -------
    >>> import fastprep as fp
    >>> enc = fp.OrdinalEncoder().fit({"size": ["S", "M", "L", None]})
    >>> enc.transform({"size": ["M", None, "S"]})
    array([[ 1.],
           [nan],
           [ 2.]])
    """

    def __init__(
        self,
        *,
        categories="auto",
        dtype=np.float64,
        handle_unknown: str = "error",
        unknown_value=None,
        encoded_missing_value=np.nan,
        min_frequency=None,
        max_categories=None,
    ):
        self.categories = categories
        self.dtype = dtype
        self.handle_unknown = handle_unknown
        self.unknown_value = unknown_value
        self.encoded_missing_value = encoded_missing_value
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.handle_unknown not in ("error", "use_encoded_value"):
            raise ParameterError(
                f"{self._name}: handle_unknown must be 'error' or 'use_encoded_value', got "
                f"{self.handle_unknown!r}"
            )
        dtype = output_dtype(self.dtype, self._name)
        uv = self.unknown_value
        if self.handle_unknown == "use_encoded_value":
            if _is_nan(uv) and uv is not None:
                if dtype.kind != "f":
                    raise ParameterError(
                        f"{self._name}: unknown_value NaN needs a float dtype, got {dtype}"
                    )
            elif isinstance(uv, bool) or not isinstance(uv, numbers.Integral):
                raise ParameterError(
                    f"{self._name}: unknown_value must be an int or NaN with "
                    f"handle_unknown='use_encoded_value', got {uv!r}"
                )
        elif uv is not None:
            raise ParameterError(
                f"{self._name}: unknown_value is only used with "
                f"handle_unknown='use_encoded_value', got {uv!r}"
            )
        emv = self.encoded_missing_value
        if not (_is_nan(emv) and emv is not None) and (
            isinstance(emv, bool) or not isinstance(emv, numbers.Real)
        ):
            raise ParameterError(
                f"{self._name}: encoded_missing_value must be a number or NaN, got {emv!r}"
            )
        if dtype.kind != "f" and _is_nan(emv):
            raise ParameterError(
                f"{self._name}: encoded_missing_value is NaN, which dtype {dtype} cannot hold; "
                "set encoded_missing_value to a number or use a float dtype"
            )

    def _cardinality(self, c: _Column) -> int:
        m = c.n_codes
        if c.infrequent is None:
            return m
        return int(m - c.infrequent.sum() + 1)

    def _extra_attributes(self, columns):
        for j, c in enumerate(columns):
            n = self._cardinality(c)
            if self.handle_unknown == "use_encoded_value" and not _is_nan(self.unknown_value):
                if 0 <= self.unknown_value < n:
                    raise ParameterError(
                        f"{self._name}: unknown_value {self.unknown_value} is already the code "
                        f"of a category of column {j}"
                    )
            emv = self.encoded_missing_value
            if c.has_missing and not _is_nan(emv) and 0 <= emv < n:
                raise ParameterError(
                    f"{self._name}: encoded_missing_value {emv} is already the code of a "
                    f"category of column {j}"
                )
        return {}

    def _build_tables(self):
        tables = []
        unknown = (
            float(self.unknown_value) if self.handle_unknown == "use_encoded_value" else np.nan
        )
        for c in self._columns:
            m = c.n_codes
            value = np.arange(m, dtype=np.float64)
            if c.infrequent is not None:
                n_frequent = int(m - c.infrequent.sum())
                value[~c.infrequent] = np.arange(n_frequent)
                value[c.infrequent] = n_frequent
            table = np.empty(c.n_codes + 2, dtype=np.float64)
            table[: c.n_codes] = c.by_code(value)
            table[c.n_codes] = float(self.encoded_missing_value)
            table[c.n_codes + 1] = unknown
            tables.append(table)
        return tables

    def transform(self, X) -> np.ndarray:
        """Codes of ``X`` as a dense array of ``dtype``."""
        return self._gather(X)

    def _identity_table(self, c: _Column) -> bool:
        if c.order is not None or c.infrequent is not None:
            return False
        # Codes survive the rounding to dtype up to the largest integer it holds exactly.
        dtype = np.dtype(self.dtype)
        if dtype.kind == "f":
            return c.n_codes <= 2 ** (np.finfo(dtype).nmant + 1)
        return dtype.kind in "iu" and c.n_codes - 1 <= np.iinfo(dtype).max

    def inverse_transform(self, X) -> np.ndarray:
        """Categories back from codes: an object array; ``unknown_value`` gives None,
        ``encoded_missing_value`` NaN, the infrequent code ``"infrequent_sklearn"``."""
        self._check_fitted()
        x = np.asarray(X, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features_in_:
            raise SchemaError(
                f"{self._name}: X has shape {x.shape}, but {self.n_features_in_} columns were "
                "fitted"
            )
        out = np.empty(x.shape, dtype=object)
        for j, c in enumerate(self._columns):
            frequent = c.categories if c.infrequent is None else c.categories[~c.infrequent]
            labels = list(frequent) + ([INFREQUENT_NAME] if c.infrequent is not None else [])
            col = np.full(x.shape[0], None, dtype=object)
            v = x[:, j]
            missing = (
                np.isnan(v)
                if _is_nan(self.encoded_missing_value)
                else (v == self.encoded_missing_value)
            )
            ok = ~missing & (v >= 0) & (v < len(labels)) & (v == np.round(v))
            ok &= ~np.isnan(v)
            col[ok] = np.array(labels, dtype=object)[v[ok].astype(np.int64)]
            col[missing] = np.nan
            out[:, j] = col
        return out


class CountEncoder(_Encoder):
    """Each category's count at fit (``normalize=True``: its frequency, count / rows).

    Missing values get the count (frequency) of missing values at fit, 0 if there were none.
    Unknown categories get ``unknown_value`` (default 0: "seen zero times") under
    ``handle_unknown="value"``, or raise under ``"error"``. There is no scikit-learn
    counterpart; the output is float64 (or ``dtype``).

    Example
    -------
    >>> import fastprep as fp
    >>> enc = fp.CountEncoder().fit({"city": ["a", "b", "a", None]})
    >>> enc.transform({"city": ["a", "b", None, "z"]}).ravel().tolist()
    [2.0, 1.0, 1.0, 0.0]
    """

    _infrequent_params = False

    def __init__(
        self,
        *,
        normalize: bool = False,
        categories="auto",
        handle_unknown: str = "value",
        unknown_value: float = 0.0,
        dtype=np.float64,
    ):
        self.normalize = normalize
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.unknown_value = unknown_value
        self.dtype = dtype

    def _validate_params(self) -> None:
        super()._validate_params()
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ParameterError(f"{self._name}: normalize must be a bool, got {self.normalize!r}")
        if self.handle_unknown not in ("value", "error"):
            raise ParameterError(
                f"{self._name}: handle_unknown must be 'value' or 'error', got "
                f"{self.handle_unknown!r}"
            )
        if isinstance(self.unknown_value, bool) or not isinstance(self.unknown_value, numbers.Real):
            raise ParameterError(
                f"{self._name}: unknown_value must be a number, got {self.unknown_value!r}"
            )
        output_dtype(self.dtype, self._name)

    def _commit(self, counts, names):
        super()._commit(counts, names)
        self.n_rows_seen_ = counts.n_rows
        self.counts_ = [
            np.append(c.counts.astype(np.int64), c.missing)
            if c.has_missing
            else c.counts.astype(np.int64)
            for c in self._columns
        ]
        return self

    def _build_tables(self):
        # Frequencies divide once (count / rows): exact for counts that divide evenly.
        divisor = float(self.n_rows_seen_) if self.normalize else 1.0
        tables = []
        for c in self._columns:
            table = np.empty(c.n_codes + 2, dtype=np.float64)
            table[: c.n_codes] = c.by_code(c.counts) / divisor
            table[c.n_codes] = c.missing / divisor
            table[c.n_codes + 1] = float(self.unknown_value)
            tables.append(table)
        return tables

    def transform(self, X) -> np.ndarray:
        """Counts (or frequencies) of ``X``'s categories, a dense array of ``dtype``."""
        return self._gather(X)
