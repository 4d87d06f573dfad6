"""Fitted scikit-learn objects as fastprep's: ``from_sklearn``.

A conversion copies fitted attributes; it never refits. Each scikit-learn object becomes the
``State`` of its fastprep counterpart (``fastprep._state``), which fastprep rebuilds and
validates exactly as it rebuilds a loaded artifact: a converted object is checked as strictly
as one read from disk, and what it computes follows from its state alone.

What scikit-learn does not keep is chosen and documented here:

- encoders keep no category counts: each category of a converted encoder counts once (its
  infrequent categories, when it groups them, are given counts that reproduce its grouping),
  so a converted pipeline carries no training profile of category frequencies;
- a converted composition has no drift reference (``drift_reference_``): scikit-learn keeps
  no distribution of the training columns.

Unsupported steps (a class fastprep has no counterpart of, or a parameter value it does not
support) are all listed in one ``ConversionError``, by path (``num__pca``) and class; with
``strict=False`` they stay the scikit-learn objects they are, run step by step in Python, and
saving the result refuses, naming them.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastprep._input import positional_names
from fastprep._state import Built, Part, State, build
from fastprep.accumulators import CategoryCounts, narrow
from fastprep.encode import _encode_values
from fastprep.exceptions import ConversionError, FastprepError

__all__ = ["from_sklearn"]


def from_sklearn(obj: Any, *, strict: bool = True) -> Any:
    """The fitted fastprep object equivalent to the fitted scikit-learn object ``obj``: a
    transform fastprep has, a linear model, a ``Pipeline`` (which may end in a linear model)
    or a ``ColumnTransformer`` of them.

    With ``strict`` (the default), any step fastprep cannot take over is an error listing
    every one of them by path and class. Without it, such steps stay scikit-learn's objects
    inside the converted composition."""
    converter = _Converter()
    converted = converter.convert(obj, "", None, top=True)
    if strict and converter.unsupported:
        steps = "; ".join(f"{path}: {why}" for path, why in converter.unsupported)
        raise ConversionError(
            f"from_sklearn: fastprep cannot take over {len(converter.unsupported)} step"
            f"{'s' if len(converter.unsupported) > 1 else ''}: {steps}. Pass strict=False to "
            "keep them as scikit-learn objects (they run in Python, and the result cannot be "
            "saved)"
        )
    if isinstance(converted, _Foreign):
        return converted.obj
    result = converted.obj if converted.obj is not None else build(converted.state)
    # scikit-learn keeps no profile of its training data: an artifact of the result says so
    # (no rows, no columns) rather than describing the counts the conversion made up.
    result._loaded_profile = {"rows": None, "columns": {}}
    return result


# -- what a converted step is --------------------------------------------------------------------


@dataclass(frozen=True)
class _Converted:
    """A step as a fastprep state, and (``obj``) the object built from it where the
    conversion built it to check it (a composition is built once, with its parts);
    ``tables``: whether a composition hands it its columns as they are (named) rather than
    as a float matrix; ``kinds``: per input column, ``"numeric"`` or ``"other"`` (what the
    fit saw)."""

    state: State
    tables: bool
    kinds: list[str]
    obj: Any = None


@dataclass(frozen=True)
class _Foreign:
    """A step kept as the scikit-learn object it is (``strict=False``)."""

    obj: Any
    width: int

    @property
    def kinds(self) -> list[str]:
        return ["numeric"] * self.width


def _sklearn_class(obj: Any) -> str | None:
    """The class name of a scikit-learn object, or None for anything else."""
    module = type(obj).__module__ or ""
    return type(obj).__name__ if module.split(".")[0] == "sklearn" else None


def _is_nan(v: Any) -> bool:
    return isinstance(v, (float, np.floating)) and math.isnan(v)


# -- leaves ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    """How one scikit-learn transform converts: its fitted values (without the input record)
    and whether it reads its columns as they are; ``fit_only``: its parameters that only
    shape a fit, ignored; ``refused``: parameter checks fastprep's own validation does not
    make (a name and a predicate of the value that it must meet)."""

    values: Callable[[Any], dict[str, Any]]
    fit_only: tuple[str, ...] = ("copy",)
    refused: tuple[tuple[str, Callable[[Any], bool], str], ...] = ()
    tables: Callable[[Any], bool] = lambda est: False
    kinds: Callable[[Any], list[str]] | None = None


def _attrs(*names: str) -> Callable[[Any], dict[str, Any]]:
    return lambda est: {n: getattr(est, n) for n in names}


def _standard_values(est) -> dict[str, Any]:
    values = _attrs("mean_", "var_", "scale_")(est)
    seen = est.n_samples_seen_  # an int, or per column (float64 in scikit-learn) after NaN
    values["n_samples_seen_"] = int(seen) if np.ndim(seen) == 0 else seen.astype(np.int64)
    return values


def _imputer_values(est) -> dict[str, Any]:
    if _imputer_strings(est):
        return {"counts": _fill_counts(est)}
    # A constant fill of numbers is an object array in scikit-learn.
    statistics = np.asarray(est.statistics_.tolist(), dtype=np.float64)
    indicator = getattr(est, "indicator_", None)
    # Without an indicator scikit-learn keeps no record of the columns with missing values.
    features = (
        np.zeros(0, dtype=np.int64)
        if indicator is None
        else np.asarray(indicator.features_, dtype=np.int64)
    )
    return {"statistics_": statistics, "indicator_features_": features}


def _power_values(est) -> dict[str, Any]:
    width = len(est.lambdas_)
    scaler = est._scaler if est.standardize else None  # fastprep: no standardizing is 0 and 1
    return {
        "lambdas_": est.lambdas_,
        "_mean": np.zeros(width) if scaler is None else scaler.mean_,
        "_scale": np.ones(width) if scaler is None else scaler.scale_,
    }


def _fill_counts(est) -> dict:
    """The counts a string imputer is fitted from (fastprep derives its fills from them):
    each column's fill, counted once. scikit-learn keeps no other category."""
    fills = est.statistics_.tolist()
    if not all(isinstance(v, str) for v in fills):
        raise _Unsupported("fills of strings and numbers together")
    columns = []
    for fill in fills:
        (core, vocab, offsets), _ = _encode_values("str", [fill])
        columns.append(
            {"core": core, "values": vocab, "offsets": offsets,
             "counts": np.ones(1, dtype=np.uint8), "missing": 0}
        )  # fmt: skip
    return {"n_rows": 1, "kinds": ["str"] * len(fills), "columns": columns}


def _imputer_strings(est) -> bool:
    """Whether it was fitted on strings (its fills are strings)."""
    values = est.statistics_.tolist()
    return est.statistics_.dtype == object and any(isinstance(v, str) for v in values)


def _imputer_kinds(est) -> list[str]:
    return ["other" if _imputer_strings(est) else "numeric"] * est.n_features_in_


_LEAVES: dict[str, _Leaf] = {
    "StandardScaler": _Leaf(_standard_values),
    "MinMaxScaler": _Leaf(
        _attrs("data_min_", "data_max_", "data_range_", "scale_", "min_", "n_samples_seen_")
    ),
    "MaxAbsScaler": _Leaf(_attrs("max_abs_", "scale_", "n_samples_seen_")),
    "RobustScaler": _Leaf(_attrs("center_", "scale_")),
    "Normalizer": _Leaf(_attrs()),
    "Binarizer": _Leaf(_attrs()),
    "FunctionTransformer": _Leaf(_attrs()),
    "PolynomialFeatures": _Leaf(_attrs()),
    "SplineTransformer": _Leaf(
        lambda est: {"knots_": np.stack([b.t for b in est.bsplines_])},
        refused=(("sparse_output", lambda v: not v, "sparse output"),),
    ),
    "SimpleImputer": _Leaf(
        _imputer_values,
        refused=(("missing_values", _is_nan, "missing values other than NaN"),),
        tables=_imputer_strings,
        kinds=_imputer_kinds,
    ),
    "KBinsDiscretizer": _Leaf(
        _attrs("bin_edges_", "n_bins_"),
        fit_only=("subsample", "random_state"),
        refused=(("dtype", lambda v: v is None, "an output dtype"),),
    ),
    "PowerTransformer": _Leaf(_power_values),
    "QuantileTransformer": _Leaf(
        _attrs("quantiles_", "references_", "n_quantiles_"),
        fit_only=("copy", "subsample", "random_state"),
    ),
}


# -- encoders: categories and the counts scikit-learn does not keep ---------------------------


_ENCODERS = ("OneHotEncoder", "OrdinalEncoder")


def _category_kind(categories: np.ndarray) -> str:
    """The kind of column a fitted encoder's categories come from."""
    if categories.dtype == bool:
        return "bool"
    if categories.dtype.kind in "iu":
        return "int"
    if categories.dtype.kind == "f":
        return "float"
    values = [v for v in categories.tolist() if not (v is None or _is_nan(v))]
    if categories.dtype == object and all(isinstance(v, str) for v in values):
        return "str"
    raise _Unsupported("categories of mixed or unsupported types")


def _split_missing(categories: np.ndarray) -> tuple[list, bool]:
    values = categories.tolist()
    if values and (values[-1] is None or _is_nan(values[-1])):
        return values[:-1], True
    return values, False


def _frequent_count(columns: list[tuple[int, int, int]], min_frequency) -> int:
    """One count for every frequent category such that, with each infrequent one counted
    once, scikit-learn's rule (``_identify_infrequent``) groups exactly the infrequent ones.
    ``columns``: per column, its numbers of frequent and infrequent categories and of missing
    values counted."""
    if min_frequency is None or isinstance(min_frequency, numbers.Integral):
        return max(2, int(min_frequency or 0))
    # A fraction f of all N rows (the largest column total): F >= f N, and 1 < f N.
    f = float(min_frequency)
    rare = any(m for _, m, _ in columns)
    count = 2
    while count <= 2**40:
        rows = max((k * count + m + miss for k, m, miss in columns), default=0)
        if count >= f * rows and (not rare or 1 < f * rows):
            return count
        count *= 2
    raise _Unsupported("an infrequent grouping no counts reproduce")


def _encoder_counts(est, kinds: list[str]) -> dict:
    """Category counts that give ``est``'s categories and its infrequent grouping: each
    category once, or, where it groups infrequent ones, each of those once and every other
    category often enough to stay frequent."""
    grouping = getattr(est, "min_frequency", None) is not None or (
        getattr(est, "max_categories", None) is not None
    )
    infrequent = getattr(est, "infrequent_categories_", None) if grouping else None
    split = []
    for j, cats in enumerate(est.categories_):
        values, has_missing = _split_missing(np.asarray(cats))
        rare_values = [] if infrequent is None or infrequent[j] is None else infrequent[j]
        rare_values = np.asarray(rare_values, dtype=object).tolist()
        if any(v is None or _is_nan(v) for v in rare_values):
            raise _Unsupported("a missing value grouped as infrequent (fastprep keeps it apart)")
        rare = set(rare_values)
        split.append((values, has_missing, np.array([v in rare for v in values], dtype=bool)))
    frequent = 1
    if grouping:
        shape = [(int((~r).sum()), int(r.sum()), int(m)) for _, m, r in split]
        frequent = _frequent_count(shape, est.min_frequency)
    columns, totals = [], []
    for kind, (values, has_missing, is_rare) in zip(kinds, split, strict=True):
        counts = np.where(is_rare, 1, frequent).astype(np.int64)
        if kind == "bool":
            values = [bool(v) for v in values]
        (core, vocab, offsets), order = _encode_values(kind, values)
        columns.append(
            {"core": core, "values": vocab, "offsets": offsets,
             "counts": narrow(counts[order]), "missing": int(has_missing)}
        )  # fmt: skip
        totals.append(int(counts.sum()) + int(has_missing))
    return {"n_rows": max(totals, default=0), "kinds": kinds, "columns": columns}


def _encoder(est) -> tuple[dict[str, Any], list[str]]:
    kinds = [_category_kind(np.asarray(c)) for c in est.categories_]
    counts = _encoder_counts(est, kinds)
    CategoryCounts.from_state(counts, check_values=True)
    column_kinds = ["other" if k == "str" else "numeric" for k in kinds]
    return {"counts": counts}, column_kinds


# -- linear models --------------------------------------------------------------------------------

_CLASSIFIERS = ("LogisticRegression", "SGDClassifier", "LinearSVC")
_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor", "LinearSVR")


def _link(est, name: str) -> str | None:
    """How the classifier's scores become probabilities, as its ``predict_proba`` does."""
    if name == "LogisticRegression":
        return "logistic" if len(est.classes_) == 2 else "softmax"
    if name == "SGDClassifier":
        return {"log_loss": "logistic", "modified_huber": "modified_huber"}.get(est.loss)
    return None


def _model_state(est, name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(kind, params, fitted values)`` of a linear model."""
    values = {"coef_": _owned(np.asarray(est.coef_, dtype=np.float64))}
    intercept = est.intercept_
    values["intercept_"] = (
        float(intercept) if np.ndim(intercept) == 0 else _owned(np.asarray(intercept, np.float64))
    )
    if name in _CLASSIFIERS:
        values["classes_"] = _owned(np.asarray(est.classes_))
        return "LinearClassifier", {"link": _link(est, name)}, values
    return "LinearRegressor", {}, values


# -- the converter ------------------------------------------------------------------------------


class _Unsupported(Exception):
    """Why a step cannot convert (collected, never raised to the caller)."""


class _Converter:
    def __init__(self) -> None:
        self.unsupported: list[tuple[str, str]] = []

    def convert(self, est: Any, path: str, names: list[str] | None, top: bool = False):
        """``est`` as a ``_Converted`` (or ``_Foreign``); ``names``: the columns it reads,
        named, when its composition gives it a table (None: as a float matrix)."""
        name = _sklearn_class(est)
        try:
            if name == "FunctionTransformer" and not top and _identity(est):
                return "passthrough"
            if name == "Pipeline":
                return self._pipeline(est, path, names, top)
            if name == "ColumnTransformer":
                return self._column_transformer(est, path, names, top)
            if name in _LEAVES or name in _ENCODERS:
                return self._leaf(est, name, path, names, top)
            if name in _CLASSIFIERS or name in _REGRESSORS:
                return self._model(est, name, top)
            raise _Unsupported(
                "not a transform fastprep has" if name is not None else "not scikit-learn's"
            )
        except _Unsupported as why:
            label = path.rstrip("_") or "the object"
            self.unsupported.append((label, f"{type(est).__name__}, {why}"))
            return _Foreign(est, int(getattr(est, "n_features_in_", 0) or 0))

    # -- parameters -------------------------------------------------------------------------

    def _params(self, est, kind: str, leaf: _Leaf | None) -> dict[str, Any]:
        """``est``'s parameters as fastprep's ``kind`` takes them; one fastprep lacks must be
        scikit-learn's default (or only shape a fit)."""
        from fastprep._state import kind as kind_of

        cls = kind_of(kind)
        ours = set(cls._param_names())
        theirs = est.get_params(deep=False)
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(est).__init__).parameters.values()
            if p.default is not inspect.Parameter.empty
        }
        refused = leaf.refused if leaf is not None else ()
        for pname, check, what in refused:
            if pname in theirs and not check(theirs[pname]):
                raise _Unsupported(f"{what} ({pname}={theirs[pname]!r})")
        # Parameters that only shaped the fit, and those checked above.
        skipped = set(leaf.fit_only if leaf is not None else ("copy",)) | {r[0] for r in refused}
        params = {}
        for pname, value in theirs.items():
            if pname in ours:
                params[pname] = value
            elif pname in skipped:
                continue
            elif not _same_value(value, defaults.get(pname, inspect.Parameter.empty)):
                raise _Unsupported(f"the parameter {pname}={value!r} (fastprep has no {pname})")
        return params

    # -- leaves -----------------------------------------------------------------------------

    def _leaf(self, est, name: str, path: str, names, top: bool) -> _Converted:
        if not hasattr(est, "n_features_in_"):
            raise _Unsupported("it is not fitted")
        leaf = _LEAVES.get(name)
        params = self._params(est, name, leaf)
        if name in _ENCODERS:
            values, kinds = _encoder(est)
            tables = True
        else:
            values = leaf.values(est)
            kinds = leaf.kinds(est) if leaf.kinds else ["numeric"] * est.n_features_in_
            tables = leaf.tables(est)
        values = {k: _owned(v) for k, v in values.items()}
        record: dict[str, Any] = {"n_features_in_": int(est.n_features_in_)}
        given = _names_of(est) if top else (names if tables else None)
        if given is not None:
            record["feature_names_in_"] = np.asarray(given, dtype=object)
        state = State(name, params, {**record, **values})
        built = self._check(state)
        if name in _ENCODERS and not _same_categories(built, est):
            raise _Unsupported("categories or an infrequent grouping fastprep does not reproduce")
        return _Converted(state, tables, kinds, built)

    def _model(self, est, name: str, top: bool) -> _Converted:
        """A linear model: its coefficients; its parameters only shaped its training."""
        if not hasattr(est, "coef_"):
            raise _Unsupported("it is not fitted")
        kind, params, values = _model_state(est, name)
        record: dict[str, Any] = {"n_features_in_": int(est.n_features_in_)}
        given = _names_of(est) if top else None
        if given is not None:
            record["feature_names_in_"] = np.asarray(given, dtype=object)
        state = State(kind, params, {**record, **values})
        return _Converted(state, False, ["numeric"] * est.n_features_in_, self._check(state))

    @staticmethod
    def _check(state: State):
        """Build it once: a parameter or value fastprep refuses makes the step unsupported,
        with fastprep's own message."""
        try:
            return build(state)
        except FastprepError as exc:
            raise _Unsupported(str(exc)) from None

    # -- compositions -----------------------------------------------------------------------

    def _pipeline(self, pipe, path: str, names, top: bool):
        if not hasattr(pipe, "n_features_in_") and not hasattr(pipe.steps[-1][1], "n_features_in_"):
            raise _Unsupported("it is not fitted")
        width = _width(pipe)
        given = _names_of(pipe) if top else names
        parts: list[Part] = []
        first = True
        kinds: list[str] = ["numeric"] * width
        tables = False
        for step_name, step in pipe.steps:
            if step is None or step == "passthrough":
                parts.append(Part(step_name, "passthrough"))
                continue
            converted = self.convert(step, f"{path}{step_name}__", given if first else None)
            if converted == "passthrough":
                parts.append(Part(step_name, "passthrough"))
                continue
            if first:
                tables = isinstance(converted, _Converted) and converted.tables
                kinds = list(converted.kinds) if len(converted.kinds) == width else kinds
                first = False
            parts.append(_part(step_name, converted))
        labels = given if (top or tables) and given is not None else None
        record: dict[str, Any] = {"n_features_in_": width}
        if labels is not None:
            record["feature_names_in_"] = np.asarray(labels, dtype=object)
        keys = labels if labels is not None else positional_names(width)
        state = State("Pipeline", {}, {**record, "_kinds": dict(zip(keys, kinds, strict=True))},
                      tuple(parts))  # fmt: skip
        return _Converted(state, tables, kinds)

    def _column_transformer(self, ct, path: str, names, top: bool):
        if not hasattr(ct, "transformers_"):
            raise _Unsupported("it is not fitted")
        width = int(ct.n_features_in_)
        own = _names_of(ct)
        labels = own if own is not None else positional_names(width)
        indices = ct._transformer_to_input_indices
        kinds = ["numeric"] * width
        parts: list[Part] = []
        remainder = ct.remainder
        rest_part = None
        for step_name, step, _ in ct.transformers_:
            columns = [labels[i] for i in indices.get(step_name, [])]
            if step_name == "remainder" and isinstance(remainder, str):
                if remainder == "passthrough":
                    rest_part = Part("remainder", "passthrough", columns)
                continue
            if isinstance(step, str) or not columns:
                parts.append(Part(step_name, "drop" if not columns else step, columns))
                continue
            converted = self.convert(step, f"{path}{step_name}__", columns)
            if converted == "passthrough":
                parts.append(Part(step_name, "passthrough", columns))
                continue
            for i, k in zip(indices[step_name], converted.kinds, strict=False):
                if k == "other":
                    kinds[i] = "other"
            parts.append(_part(step_name, converted, columns))
        if rest_part is not None:
            parts.append(rest_part)
        params = {
            "remainder": remainder if isinstance(remainder, str) else "drop",
            "sparse_threshold": ct.sparse_threshold,
            "verbose_feature_names_out": ct.verbose_feature_names_out,
        }
        if not isinstance(ct.verbose_feature_names_out, bool):
            raise _Unsupported(
                f"verbose_feature_names_out={ct.verbose_feature_names_out!r} (fastprep takes "
                "True or False)"
            )
        record: dict[str, Any] = {"n_features_in_": width}
        if own is not None:
            record["feature_names_in_"] = np.asarray(own, dtype=object)
        values = {
            **record,
            "_kinds": dict(zip(labels, kinds, strict=True)),
            "sparse_output_": bool(ct.sparse_output_),
        }
        state = State("ColumnTransformer", params, values, tuple(parts))
        return _Converted(state, True, kinds)


def _same_categories(ours, theirs) -> bool:
    """Whether a converted encoder has the categories and infrequent ones of the original."""

    def same(a, b) -> bool:
        if a is None or b is None:
            return a is None and b is None
        a, b = np.asarray(a, dtype=object).tolist(), np.asarray(b, dtype=object).tolist()
        if len(a) != len(b):
            return False
        return all(x == y or (_is_nan(x) and _is_nan(y)) for x, y in zip(a, b, strict=True))

    pairs = list(zip(ours.categories_, theirs.categories_, strict=True))
    if hasattr(theirs, "infrequent_categories_"):
        pairs += list(zip(ours.infrequent_categories_, theirs.infrequent_categories_, strict=True))
    return all(same(a, b) for a, b in pairs)


def _identity(est) -> bool:
    """A FunctionTransformer that changes nothing: what a ColumnTransformer's fit makes of a
    ``"passthrough"`` transformer."""
    return (
        est.func is None
        and est.inverse_func is None
        and not est.validate
        and est.feature_names_out in (None, "one-to-one")
    )


def _part(name: str, converted, columns: list[str] | None = None) -> Part:
    """A composition's part: the step's object where it is built (a scikit-learn object
    kept, or a step the conversion built to check it), else its state."""
    if converted.obj is not None:
        return Part(name, Built(converted.obj), columns)
    return Part(name, converted.state, columns)


def _owned(value: Any) -> Any:
    """A copy of a fitted array in C order (scikit-learn keeps some transposed), so that the
    converted object shares no memory with the scikit-learn one; object arrays (a column's
    bin edges each) copied element by element."""
    if not isinstance(value, np.ndarray):
        return value
    if value.dtype == object and value.size and isinstance(value.flat[0], np.ndarray):
        out = np.empty(value.shape, dtype=object)
        for i, v in enumerate(value.flat):
            out.flat[i] = np.array(v, order="C")
        return out
    return np.array(value, order="C")


def _names_of(est) -> list[str] | None:
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _width(pipe) -> int:
    width = getattr(pipe, "n_features_in_", None)
    if width is None:
        for _, step in pipe.steps:
            if step not in (None, "passthrough"):
                width = step.n_features_in_
                break
    return int(width)


def _same_value(a: Any, b: Any) -> bool:
    if b is inspect.Parameter.empty:
        return False
    if a is b:
        return True
    if _is_nan(a) and _is_nan(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
