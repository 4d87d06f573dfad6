"""SimpleImputer: fill missing values (NaN) with a per-column statistic."""

from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._checks import check_bool, check_choice
from fastprep._input import (
    by_name,
    categorical_columns,
    column_label,
    csr_parts,
    is_table,
    with_values,
)
from fastprep._plan import floats
from fastprep.accumulators import CategoryCounts
from fastprep.exceptions import DataError, FastprepError, ParameterError, SchemaError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["SimpleImputer"]


class SimpleImputer(InvertibleTransform):
    """Replace NaN with the column's mean, median, most frequent value, or a constant.

    Parameters
    ----------
    strategy : {"mean", "median", "most_frequent", "constant"}, default "mean"
        ``most_frequent`` takes the smallest value on ties, as scikit-learn does.
    fill_value : float or None, default None
        The constant for ``strategy="constant"``; None means 0.
    add_indicator : bool, default False
        Append one 0/1 column per feature that had NaN at fit, 1 where the input was NaN.
    keep_empty_features : bool, default False
        A column with no value at fit is dropped from the output (with a warning; its
        statistic is NaN) unless this is True, in which case it is filled with 0 (with
        ``fill_value`` for "constant").

    Missing means NaN (scikit-learn's ``missing_values=np.nan``). Statistics are exact:
    means by mergeable moments, medians and modes over every training value.

    Fitted attributes: ``statistics_``, ``indicator_features_`` (the columns with an
    indicator), ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.SimpleImputer().fit_transform(np.array([[1.0], [np.nan], [3.0]])).ravel()
    array([1., 2., 3.])
    """

    #: What it outputs has no missing value (in a Pipeline, a model after it sees none).
    _fills_missing = True

    statistics_: np.ndarray
    indicator_features_: np.ndarray
    _fitted_attributes = ("statistics_", "indicator_features_")
    _per_column = ("statistics_",)

    def __init__(
        self,
        *,
        strategy: str = "mean",
        fill_value: float | None = None,
        add_indicator: bool = False,
        keep_empty_features: bool = False,
    ):
        self.strategy = strategy
        self.fill_value = fill_value
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    @property
    def _keep_values(self) -> bool:  # type: ignore[override]
        return self.strategy in ("median", "most_frequent")

    def _validate_params(self) -> None:
        check_choice(
            self._name, "strategy", self.strategy, ("mean", "median", "most_frequent", "constant")
        )
        check_bool(self._name, "add_indicator", self.add_indicator)
        check_bool(self._name, "keep_empty_features", self.keep_empty_features)
        if (
            self.fill_value is not None
            and not isinstance(self.fill_value, str)
            and (isinstance(self.fill_value, bool) or not isinstance(self.fill_value, numbers.Real))
        ):
            raise ParameterError(
                f"{self._name}: fill_value must be a number, a string or None, "
                f"got {self.fill_value!r}"
            )

    def _finalize(self, accumulator):
        if isinstance(self.fill_value, str):
            raise ParameterError(
                f"{self._name}: fill_value {self.fill_value!r} is a string, but the columns are "
                "numeric"
            )
        moments = accumulator.moments
        empty = moments.count == 0
        if self.strategy == "constant":
            fill = 0.0 if self.fill_value is None else float(self.fill_value)
            statistics = np.full(moments.n_features, fill)
            if not self.keep_empty_features:
                statistics[empty] = np.nan  # marks the column as dropped, as in scikit-learn
        else:
            if self.strategy == "mean":
                statistics = moments.mean.copy()
            elif accumulator.values is None:
                raise ParameterError(
                    f"{self._name}: strategy changed to {self.strategy!r} after a fit that did "
                    "not keep values; fit again"
                )
            elif self.strategy == "median":
                statistics = accumulator.values.medians()
            else:
                statistics = accumulator.values.modes()
            if self.keep_empty_features:
                statistics[empty] = 0.0
        return {
            "statistics_": statistics,
            "indicator_features_": np.flatnonzero(moments.nan_count > 0),
        }

    @property
    def _kept_columns(self) -> np.ndarray:
        if getattr(self, "_strings", False):
            return np.arange(self.n_features_in_)
        if self.keep_empty_features:
            return np.arange(self.n_features_in_)
        return np.flatnonzero(~np.isnan(self.statistics_))

    def _plan_step(self) -> dict | None:
        """The kernel call of ``transform`` for a compiled plan (None when it would warn, and
        for string columns, whose fill the plan folds into the encoder that follows)."""
        if getattr(self, "_strings", False):
            return None
        kept = self._kept_columns
        if kept.size < self.n_features_in_:
            return None
        indicator = self.indicator_features_ if self.add_indicator else np.empty(0, np.intp)
        return {"step": "impute", "kept": kept.tolist(), "fill": floats(self.statistics_[kept]),
                "indicator": indicator.tolist()}  # fmt: skip

    def _reads_tables(self, frame=None, names=None) -> bool:
        """Whether a composition gives it its columns as they are: fitted, as it was fitted
        (on strings or on numbers); unfitted, when they are not all numbers."""
        if self.is_fitted:
            return bool(getattr(self, "_strings", False))
        if frame is not None:
            return not all(frame.is_numeric(n) for n in (frame.names if names is None else names))
        return False

    def _string_fills(self) -> list[str] | None:
        """The fill of each string column (what an encoder after it sees for a missing
        value), or None for numeric columns."""
        return list(self.statistics_) if getattr(self, "_strings", False) else None

    def _transform(self, x):
        kept = self._kept_columns
        if kept.size < self.n_features_in_:
            self._warn_dropped(kept)
        indicator = self.indicator_features_ if self.add_indicator else np.empty(0, np.intp)
        return kernels().impute(
            x, kept.tolist(), self.statistics_[kept].astype(np.float64), indicator.tolist()
        )

    def _accepts_sparse(self) -> bool:
        return not getattr(self, "_strings", False)

    def _transform_csr(self, x, like):
        """NaN among the stored values filled (the implicit zeros are values); dropped columns
        and indicator columns as for dense input, the indicators sparse too."""
        from scipy import sparse

        fill = self.statistics_.astype(np.float64)
        out = with_values(x, kernels().fill_csr(*csr_parts(x), fill), like)
        kept = self._kept_columns
        if kept.size < self.n_features_in_:
            self._warn_dropped(kept)
            out = out[:, kept]
        if not self.add_indicator:
            return out
        # One stored 1 per stored NaN of an indicator column, at its indicator's position.
        at = np.full(self.n_features_in_, -1, dtype=np.int64)
        at[self.indicator_features_] = np.arange(self.indicator_features_.size)
        with np.errstate(invalid="ignore"):
            missing = np.isnan(x.data) & (at[x.indices] >= 0)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))[missing]
        flags = sparse.csr_matrix(
            (np.ones(rows.size, dtype=x.dtype), (rows, at[x.indices[missing]])),
            shape=(x.shape[0], self.indicator_features_.size),
        )
        both = sparse.hstack([out, flags], format=getattr(like, "format", "csr"))
        return type(out)(both) if isinstance(out, sparse.sparray) else both

    def _warn_dropped(self, kept: np.ndarray) -> None:
        dropped = np.setdiff1d(np.arange(self.n_features_in_), kept)
        warnings.warn(
            f"{self._name}: skipping features without any observed value at fit: "
            f"{', '.join(self._label(int(j)) for j in dropped)}",
            UserWarning,
            stacklevel=4,
        )

    # -- string columns ------------------------------------------------------------------------

    def fit(self, X, y=None) -> Self:
        """Fit on ``X``: numbers (a 2-D array), or string columns (any table fastprep reads),
        which take ``most_frequent`` or ``constant``."""
        strings = _string_columns(X, self._name)
        if strings is None:
            self._strings = False
            return super().fit(X)
        return self._fit_strings(*strings, previous=None)

    def partial_fit(self, X, y=None) -> Self:
        if not getattr(self, "_strings", False) or not self.is_fitted:
            strings = _string_columns(X, self._name) if not self.is_fitted else None
            if strings is not None:
                return self._fit_strings(*strings, previous=None)
            return super().partial_fit(X)
        strings = _string_columns(X, self._name)
        if strings is None:
            raise SchemaError(f"{self._name}: fitted on string columns, got numbers")
        return self._fit_strings(*strings, previous=self.accumulator_)

    def merge(self, other: Self) -> Self:
        if getattr(self, "_strings", False) or getattr(other, "_strings", False):
            if not (getattr(self, "_strings", False) and getattr(other, "_strings", False)):
                raise SchemaError(
                    f"{self._name}: cannot merge a fit on strings with one on numbers"
                )
            if _comparable_params(self) != _comparable_params(other):
                raise ParameterError(f"{self._name}: cannot merge fits with different parameters")
            names = getattr(self, "feature_names_in_", None)
            return self._commit_strings(
                self.accumulator_.merge(other.accumulator_), None if names is None else list(names)
            )
        return super().merge(other)

    def _fit_strings(self, names, columns, previous):
        self._validate_params()
        if self.strategy not in ("most_frequent", "constant"):
            raise ParameterError(
                f"{self._name}: strategy {self.strategy!r} needs numbers; string columns take "
                "'most_frequent' or 'constant'"
            )
        if self.add_indicator:
            raise ParameterError(f"{self._name}: add_indicator is for numeric columns only")
        if self.fill_value is not None and not isinstance(self.fill_value, str):
            raise ParameterError(
                f"{self._name}: fill_value for string columns must be a string, got "
                f"{self.fill_value!r}"
            )
        numeric = [j for j, c in enumerate(columns) if c.kind != "str"]
        if numeric:
            raise SchemaError(
                f"{self._name}: {column_label(numeric[0], names)} holds numbers and the others "
                "strings; impute them in separate imputers (a ColumnTransformer selects the "
                "columns)"
            )
        rows = columns[0].length if columns else 0
        if rows == 0:
            raise DataError(f"{self._name}: cannot fit on 0 rows")
        counts = CategoryCounts.of_columns(columns)
        if previous is not None:
            if previous.n_features != counts.n_features:
                raise SchemaError(
                    f"{self._name}: batch has {counts.n_features} columns, but the previous "
                    f"batches had {previous.n_features}"
                )
            counts = previous.merge(counts)
        return self._commit_strings(counts, names)

    def _commit_strings(self, counts, names):
        fills = []
        for j, counted in enumerate(counts.columns):
            if self.strategy == "constant":
                fills.append("missing_value" if self.fill_value is None else self.fill_value)
                continue
            _, data, offsets, seen, _ = counted
            if len(seen) == 0:
                raise DataError(
                    f"{self._name}: {column_label(j, names)} has no value at fit to take the "
                    "most frequent from"
                )
            # Ties go to the smallest value (the categories are sorted), as in scikit-learn.
            # Only that one string is decoded.
            i = int(np.argmax(seen))
            fills.append(data[offsets[i] : offsets[i + 1]].tobytes().decode("utf-8"))
        self.statistics_ = np.asarray(fills, dtype=object)
        self.indicator_features_ = np.empty(0, dtype=np.intp)
        self._set_record(counts.n_features, names)
        self.accumulator_ = counts
        self._strings = True
        self._state_keys = ()
        return self

    # -- the state: numbers' statistics, or strings' counts ----------------------------------

    def _fitted_values(self):
        if not getattr(self, "_strings", False):
            return super()._fitted_values()
        return {**self._record_values(), "counts": self.accumulator_.to_state()}

    def _restore(self, values):
        if "counts" not in values:
            super()._restore(values)
            self._strings = False
            return
        names = self._restore_record(values)
        counts = CategoryCounts.from_state(values.pop("counts"), check_values=True)
        if values or counts.n_features != self.n_features_in_:
            raise SchemaError(f"{self._name}: malformed state")
        self._commit_strings(counts, names)

    def _validate_state(self) -> None:
        if not getattr(self, "_strings", False):
            super()._validate_state()

    def _check_state(self) -> None:
        features = self.indicator_features_
        if not (isinstance(features, np.ndarray) and features.dtype.kind in "iu"
                and features.ndim == 1):  # fmt: skip
            raise SchemaError("indicator_features_ must be column positions")
        if features.size and (features.min() < 0 or features.max() >= self.n_features_in_
                              or np.any(np.diff(features) <= 0)):  # fmt: skip
            raise SchemaError("indicator_features_ must be increasing column positions")

    def transform(self, X, *, out: np.ndarray | None = None):
        """Fill missing values: NaN in numbers; None, NaN or null in string columns (an object
        array out, as scikit-learn gives). ``out``: as ``Transform.transform`` (numbers)."""
        if not getattr(self, "_strings", False):
            return super().transform(X, out=out)
        if out is not None:
            raise ParameterError(f"{self._name}: out= takes numeric output, not strings")
        self._check_fitted()
        strings = _string_columns(X, self._name)
        if strings is None:
            raise SchemaError(f"{self._name}: fitted on string columns, got numbers")
        names, columns = strings
        at = self._fitted_positions(names, len(columns), by_name(X))
        if at is not None:
            columns = [columns[j] for j in at]
        rows = columns[0].length if columns else 0
        out = np.empty((rows, len(columns)), dtype=object)
        for j, (column, fill) in enumerate(zip(columns, self.statistics_, strict=True)):
            arrow = _arrow(column)
            filled = pc.fill_null(
                pc.cast(arrow, pa.large_string()), pa.scalar(fill, pa.large_string())
            )
            out[:, j] = filled.to_numpy(zero_copy_only=False)
        return out

    def _n_features_out(self) -> int:
        self._check_fitted()
        indicators = len(self.indicator_features_) if self.add_indicator else 0
        return int(self._kept_columns.size) + indicators

    def get_feature_names_out(self, input_features=None):
        names = self._input_names(input_features)
        out = list(names[self._kept_columns])
        if self.add_indicator:
            out += [f"missingindicator_{names[j]}" for j in self.indicator_features_]
        return np.asarray(out, dtype=object)

    def _inverse_transform(self, x):
        """Put NaN back where the indicator columns say a value was missing (needs
        ``add_indicator=True``, as in scikit-learn); dropped columns come back as NaN."""
        if not self.add_indicator:
            raise ParameterError(
                f"{self._name}: inverse_transform needs add_indicator=True to know which "
                "values were missing"
            )
        kept = self._kept_columns
        out = np.full((x.shape[0], self.n_features_in_), np.nan, dtype=x.dtype)
        out[:, kept] = x[:, : kept.size]
        missing = x[:, kept.size :].astype(bool)
        for k, j in enumerate(self.indicator_features_):
            out[missing[:, k], j] = np.nan
        return out


def _string_columns(X, owner: str):
    """``(names, columns)`` when ``X`` holds string columns, None for numbers (and for
    anything else, which the numeric path accepts or refuses with its own message)."""
    if not is_table(X):
        # Arrays and lists: strings only when every column holds strings (a stray string
        # among numbers is the numeric path's error, naming the cell).
        a = X if isinstance(X, np.ndarray) else None
        if a is None:
            try:
                a = np.asarray(X, dtype=object)
            except ValueError:
                return None
        if a.ndim != 2 or a.dtype.kind not in "OUT" or a.size == 0:
            return None
        try:
            names, columns = categorical_columns(a, owner)
        except FastprepError:
            return None
        return (names, columns) if all(c.kind == "str" for c in columns) else None
    names, columns = categorical_columns(X, owner)
    if not any(c.kind == "str" for c in columns):
        return None
    return names, columns


def _arrow(column):
    """The values of a categorical column as one Arrow array or chunked array."""
    source = column.source
    if isinstance(source, (pa.Array, pa.ChunkedArray)):
        return source
    return pa.array(np.asarray(source, dtype=object), from_pandas=True)


def _comparable_params(imputer) -> dict:
    return {k: repr(v) for k, v in imputer.get_params().items()}
