"""SimpleImputer: fill missing values (NaN) with a per-column statistic."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._validation import check_bool, check_choice
from fastprep.exceptions import ParameterError

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

    _fitted_attributes = ("statistics_", "indicator_features_")

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
        if self.fill_value is not None and (
            isinstance(self.fill_value, bool) or not isinstance(self.fill_value, numbers.Real)
        ):
            raise ParameterError(
                f"{self._name}: fill_value must be a number or None for numeric data, "
                f"got {self.fill_value!r}"
            )

    def _finalize(self, accumulator):
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
        if self.keep_empty_features:
            return np.arange(self.n_features_in_)
        return np.flatnonzero(~np.isnan(self.statistics_))

    def _plan_step(self) -> tuple | None:
        """The kernel call of ``transform`` for a compiled plan (None when it would warn)."""
        kept = self._kept_columns
        if kept.size < self.n_features_in_:
            return None
        indicator = self.indicator_features_ if self.add_indicator else np.empty(0, np.intp)
        return (
            "impute",
            kept.tolist(),
            self.statistics_[kept].astype(np.float64),
            indicator.tolist(),
        )

    def _transform(self, x):
        kept = self._kept_columns
        if kept.size < self.n_features_in_:
            dropped = np.setdiff1d(np.arange(self.n_features_in_), kept)
            warnings.warn(
                f"{self._name}: skipping features without any observed value at fit: "
                f"{', '.join(self._label(int(j)) for j in dropped)}",
                UserWarning,
                stacklevel=3,
            )
        indicator = self.indicator_features_ if self.add_indicator else np.empty(0, np.intp)
        return kernels().impute(
            x, kept.tolist(), self.statistics_[kept].astype(np.float64), indicator.tolist()
        )

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
