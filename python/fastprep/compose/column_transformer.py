"""ColumnTransformer: transformers applied to column subsets, outputs side by side, with
scikit-learn's semantics (see ``fastprep.compose``)."""

from __future__ import annotations

import copy
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from fastprep import _plan
from fastprep._base import Fitted
from fastprep._input import Frame, no_columns, width_mismatch
from fastprep._output import as_dtype, dense, into, scipy_sparse
from fastprep._state import Part, State, build
from fastprep.compose._composite import (
    Composite,
    DriftPart,
    in_step,
    may_be_sparse,
    part_state,
    stage_path,
    step_input,
)
from fastprep.compose.plan import CompiledPlan, compile_spec
from fastprep.exceptions import DataError, FastprepError, ParameterError, SchemaError

if TYPE_CHECKING:
    from numpy.typing import DTypeLike
    from typing_extensions import Self

__all__ = ["ColumnTransformer"]


class ColumnTransformer(Composite):
    """Transformers applied to column subsets, outputs side by side (scikit-learn's
    ColumnTransformer).

    ``transformers``: ``(name, transform, columns)`` triples; ``columns`` is a column name, a
    position, or a list of either; ``transform`` may be ``"drop"`` or ``"passthrough"``. A
    transform given no columns is not fitted and stands as ``"drop"`` in ``transformers_``.
    ``remainder``: ``"drop"`` or ``"passthrough"`` (numeric columns only, as float64).
    The output is a scipy CSR matrix when some part is sparse and the overall density is below
    ``sparse_threshold``, else a dense array. Feature names are ``<name>__<feature>`` with
    ``verbose_feature_names_out`` (default), else the features' own names (which must then be
    unique).

    Example
    -------
    >>> import fastprep as fp
    >>> ct = fp.ColumnTransformer([
    ...     ("num", fp.StandardScaler(), ["age"]),
    ...     ("cat", fp.OneHotEncoder(sparse_output=False), ["city"]),
    ... ])
    >>> ct.fit_transform({"age": [20, 40], "city": ["Oslo", "Lima"]})
    array([[-1.,  0.,  1.],
           [ 1.,  1.,  0.]])
    >>> ct.get_feature_names_out().tolist()
    ['num__age', 'cat__city_Lima', 'cat__city_Oslo']
    """

    _parts_param = "transformers"

    def __init__(
        self,
        transformers,
        *,
        remainder="drop",
        sparse_threshold: float = 0.3,
        verbose_feature_names_out: bool = True,
    ):
        self.transformers = transformers
        self.remainder = remainder
        self.sparse_threshold = sparse_threshold
        self.verbose_feature_names_out = verbose_feature_names_out

    def _named_parts(self) -> list[tuple[str, Any]]:
        if not isinstance(self.transformers, (list, tuple)):
            return []  # refused by _validate at fit; get_params and set_params still work
        return [
            (item[0], item[1])
            for item in self.transformers
            if isinstance(item, (list, tuple)) and len(item) == 3
        ]

    def _replace_part(self, name: str, value: Any) -> None:
        self.transformers = [(n, value if n == name else s, c) for n, s, c in self.transformers]

    def _validate(self) -> None:
        owner = "ColumnTransformer"
        if not isinstance(self.transformers, (list, tuple)):
            raise ParameterError(
                f"{owner}: transformers must be a list of (name, transform, columns)"
            )
        seen = set()
        for item in self.transformers:
            if not (
                isinstance(item, (list, tuple)) and len(item) == 3 and isinstance(item[0], str)
            ):
                raise ParameterError(
                    f"{owner}: each transformer is (name, transform, columns), got {item!r}"
                )
            name, step, _ = item
            if name in seen:
                raise ParameterError(f"{owner}: transformer name {name!r} is used twice")
            seen.add(name)
            if step not in ("drop", "passthrough") and not (
                hasattr(step, "fit") and hasattr(step, "transform")
            ):
                raise ParameterError(f"{owner}: {name!r} has no fit/transform: {step!r}")
        if self.remainder not in ("drop", "passthrough"):
            raise ParameterError(
                f"{owner}: remainder must be 'drop' or 'passthrough', got {self.remainder!r}"
            )
        if not isinstance(self.sparse_threshold, numbers.Real) or not (
            0 <= self.sparse_threshold <= 1
        ):
            raise ParameterError(f"{owner}: sparse_threshold must be in [0, 1]")

    def _columns_of(self, spec, frame: Frame, name: str) -> list[str]:
        items = [spec] if isinstance(spec, (str, numbers.Integral)) else list(spec)
        out = []
        for item in items:
            if isinstance(item, str):
                if item not in frame.columns:
                    raise SchemaError(
                        f"ColumnTransformer: {name!r} selects column {item!r}, "
                        "which the input lacks"
                    )
                out.append(item)
            elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
                if not -len(frame.names) <= item < len(frame.names):
                    raise SchemaError(
                        f"ColumnTransformer: {name!r} selects column {item}, but "
                        f"the input has {len(frame.names)}"
                    )
                out.append(frame.names[item])
            else:
                raise ParameterError(
                    f"ColumnTransformer: {name!r}: a column is a name or a position, got {item!r}"
                )
        return out

    def _fit_parts(self, X, partial: bool) -> ColumnTransformer:
        self._validate()
        partial = partial and self.is_fitted
        frame = self._fitted_frame(X) if partial else Frame.of(X, "ColumnTransformer")
        if not frame.names:
            raise no_columns("ColumnTransformer", rows=frame.rows)
        if frame.rows == 0:
            raise DataError("ColumnTransformer: cannot fit on 0 rows")
        previous = dict(getattr(self, "_parts", {})) if partial else {}
        parts = self._resolved(frame, previous)
        for name, fitted, columns in parts:
            if isinstance(fitted, str):
                continue
            data = step_input(fitted, frame, columns, "ColumnTransformer")
            if partial:
                if not hasattr(fitted, "partial_fit"):
                    raise ParameterError(
                        f"ColumnTransformer: {name!r} ({type(fitted).__name__}) has no partial_fit"
                    )
                fitted.partial_fit(data)
            else:
                fitted.fit(data)
        # scikit-learn's rule, decided once at fit so that every call returns the same type:
        # sparse when some part is sparse and the fit data's density (dense parts counting as
        # all non-zero) is below sparse_threshold. Only worth a pass over the fit data when a
        # part can be sparse.
        sparse_output = False
        if any(may_be_sparse(step) for _, step, _ in parts):
            outputs = self._outputs(frame, parts)
            if any(hasattr(o, "toarray") for o in outputs):
                nnz = sum(o.nnz if hasattr(o, "nnz") else o.size for o in outputs)
                total = sum(o.shape[0] * o.shape[1] for o in outputs)
                sparse_output = bool(total) and nnz / total < self.sparse_threshold
        # Commit only now: a failure above leaves the previous fit in place.
        self._parts = {name: step for name, step, _ in parts if step not in ("drop", "passthrough")}
        self.transformers_ = parts
        self.sparse_output_ = sparse_output
        self._set_input(frame)
        # The profile of the columns the transformers read: a label or an unused column
        # present at fit is no input, and a request need not carry it.
        used = {c for _, step, cols in parts if step != "drop" for c in cols}
        self._capture_drift(frame.only([n for n in frame.names if n in used]), partial)
        self._plan = self._compile()
        return self

    def _resolved(self, frame: Frame, previous: dict) -> list:
        """``(name, step, columns)`` of each transformer over ``frame``'s columns, the
        remainder last: a transform to fit is the one of ``previous`` of its name, else a copy
        of the given one (which stays unfitted); one given no columns stands as "drop"."""
        parts = []
        used: set[str] = set()
        for name, step, spec in self.transformers:
            columns = self._columns_of(spec, frame, name)
            used.update(columns)
            if step in ("drop", "passthrough"):
                parts.append((name, step, columns))
            elif not columns:  # nothing to fit on: it outputs nothing, as "drop" does
                parts.append((name, "drop", columns))
            else:
                fitted = previous.get(name)
                if fitted is None:
                    fitted = copy.deepcopy(step)
                parts.append((name, fitted, columns))
        if self.remainder == "passthrough":
            rest = [n for n in frame.names if n not in used]
            parts.append(("remainder", "passthrough", rest))
        return parts

    # -- a fit in stages (fastprep.dask) ---------------------------------------------------

    def _stages(self) -> int:
        self._validate()
        steps = [step for _, step, _ in self.transformers if not isinstance(step, str)]
        # One more pass when the output may be sparse: its density over all rows decides.
        density = any(may_be_sparse(step) for step in steps)
        return max([1, *(step._stages() for step in steps)]) + density

    def _stage_fitted(self, stage: int):
        """``(name, step, columns)`` of the transformers ``stage`` fits."""
        for name, step, columns in self.transformers_:
            if not isinstance(step, str) and stage < step._stages():
                yield name, step, columns

    def _stage_begin(self, X, stage: int) -> None:
        frame = Frame.of(X, "ColumnTransformer")
        if stage == 0:
            self._validate()
            parts = self._resolved(frame, {})
            self.transformers_ = parts
            self._parts = {n: s for n, s, _ in parts if not isinstance(s, str)}
            self.sparse_output_ = False
            self._set_input(frame)
        for _, step, columns in self._stage_fitted(stage):
            step._stage_begin(step_input(step, frame, columns, "ColumnTransformer"), stage)

    def _stage_parts(self, X, stage: int, path: str) -> list:
        frame = Frame.of(X, "ColumnTransformer")
        parts = []
        for name, step, columns in self._stage_fitted(stage):
            data = step_input(step, frame, columns, "ColumnTransformer")
            parts += step._stage_parts(data, stage, stage_path(path, name))
        if stage == 0:
            used = {c for _, step, cols in self.transformers_ if step != "drop" for c in cols}
            inputs = frame.only([n for n in frame.names if n in used])
            parts.append((stage_path(path, "#drift"), DriftPart(), inputs))
        if stage == self._stages() - 1 and any(
            may_be_sparse(step) for _, step, _ in self.transformers_
        ):
            parts.append((stage_path(path, "#density"), DensityPart(self), frame))
        return parts

    def _stage_put(self, path: str, fitted) -> None:
        head, _, rest = path.partition("__")
        if head == "#drift":
            return self._put_drift(fitted)
        if head == "#density":
            self.sparse_output_ = (
                fitted.sparse
                and bool(fitted.total)
                and fitted.stored / fitted.total < self.sparse_threshold
            )
            return None
        if rest:
            return self._parts[head]._stage_put(rest, fitted)
        self._parts[head] = fitted
        self.transformers_ = [(n, fitted if n == head else s, c) for n, s, c in self.transformers_]
        return None

    def _stage_end(self) -> None:
        for step in self._parts.values():
            step._stage_end()
        self._plan = self._compile()

    # -- the state ----------------------------------------------------------------------------

    def _fitted_values(self) -> dict[str, Any]:
        return {**super()._fitted_values(), "sparse_output_": bool(self.sparse_output_)}

    def _state_parts(self) -> tuple[Part, ...]:
        return tuple(part_state(n, s, list(c)) for n, s, c in self.transformers_)

    @classmethod
    def _from_state(cls, state: State, where: str = "") -> ColumnTransformer:
        """A rebuilt ColumnTransformer: its fitted parts, checked against its input record."""
        parts = cls._checked(state)
        values = dict(state.values)
        sparse = values.pop("sparse_output_", None)
        ct = cls([], **state.params)
        ct._restore_input(values)
        if values or not isinstance(sparse, bool):
            raise SchemaError("ColumnTransformer: malformed state")
        names = getattr(ct, "feature_names_in_", None)
        known = set(ct._kinds) if names is not None else None
        built = []
        for p in parts:
            columns = p.columns
            if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
                raise SchemaError(f"ColumnTransformer: {p.name!r} has malformed columns")
            if known is not None and not set(columns) <= known:
                raise SchemaError(
                    f"ColumnTransformer: {p.name!r} reads columns it was not fitted on"
                )
            if isinstance(p.state, str):
                if p.state not in ("drop", "passthrough"):
                    raise SchemaError(f"ColumnTransformer: unknown step {p.state!r}")
                step = p.state
            else:
                step = build(p.state, f"{where}{p.name}/")
                width = getattr(step, "n_features_in_", len(columns))
                if width != len(columns):
                    raise SchemaError(
                        f"ColumnTransformer: {p.name!r} takes {width} columns but is given "
                        f"{len(columns)}"
                    )
            built.append((p.name, step, columns))
        rest = built[-1:] if ct.remainder == "passthrough" else []
        ct.transformers = [t for t in built if t not in rest]
        ct._validate()
        ct.transformers_ = built
        ct._parts = {n: s for n, s, _ in built if s not in ("drop", "passthrough")}
        ct.sparse_output_ = sparse
        return ct

    def _input_steps(self):
        for _, step, cols in self.transformers_:
            if isinstance(step, str):
                continue
            if isinstance(step, Composite):
                yield from ((list(cols), s) for _, s in step._input_steps())
            else:
                yield list(cols), step

    def _compile(self) -> CompiledPlan | None:
        """The native plan, or None when a step has no native form (a Python-only step, a
        transform the plan does not cover yet): such transformers run step by step, with the
        same results."""
        parts = [(step, cols) for _, step, cols in self.transformers_ if step != "drop" and cols]
        try:
            width = self._n_features_out()
        except (FastprepError, AttributeError, TypeError, ValueError):
            return None
        return compile_spec(_plan.spec(parts, width, sparse=bool(self.sparse_output_)))

    def _n_features_out(self) -> int:
        self._check_fitted()
        width = 0
        for _, step, columns in self.transformers_:
            if step == "drop" or not columns:
                continue
            if step == "passthrough":
                width += len(columns)
            elif isinstance(step, Fitted):
                width += step._n_features_out()
            else:
                width += len(step.get_feature_names_out(list(columns)))
        return width

    def _may_output_sparse(self) -> bool:
        return bool(getattr(self, "sparse_output_", False))

    def fit(self, X, y=None) -> Self:
        """Fit each transformer on its columns."""
        return self._fit_parts(X, partial=False)

    def partial_fit(self, X, y=None) -> Self:
        """Add a batch to each transformer's fit."""
        return self._fit_parts(X, partial=True)

    @property
    def named_transformers_(self) -> dict[str, Any]:
        self._check_fitted()
        return {name: step for name, step, _ in self.transformers_}

    def _input_names_used(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            raise SchemaError(
                "ColumnTransformer: transform_one / transform_records need a transformer fitted "
                "on named columns (a dict, a Table, a DataFrame)"
            )
        used = {c for _, step, cols in self.transformers_ if step != "drop" for c in cols}
        return [n for n in names if n in used]

    def _reads_tables(self, frame=None, names=None) -> bool:
        return True  # each part takes its columns as they are

    def _fitted_frame(self, X) -> Frame:
        """``X`` as a frame, refused when it is positional and of another width than the fit
        (named columns are selected by name)."""
        frame = Frame.of(X, "ColumnTransformer")
        if frame.positional and len(frame.names) != self.n_features_in_:
            raise width_mismatch("ColumnTransformer", len(frame.names), self.n_features_in_)
        return frame

    def transform(self, X, *, dtype: DTypeLike = np.float64, out: np.ndarray | None = None):
        """Every transformer's output side by side, rounded once to ``dtype``. With the Rust
        backend and a compiled plan, one native call does it all. ``out``: an array of the
        output's shape and dtype to copy the result into and return (dense output only)."""
        self._check_fitted()
        frame = self._fitted_frame(X)
        result, tallies = self._run_native(frame, dtype)
        if result is None:
            result = as_dtype(self._stack(self._outputs(frame), frame.rows), dtype)
        self._feed(frame, tallies)
        return result if out is None else into(out, result, self._name)

    def _outputs(self, frame: Frame, parts=None) -> list:
        outputs = []
        for name, step, columns in self.transformers_ if parts is None else parts:
            if step == "drop" or not columns:
                continue
            absent = [c for c in columns if c not in frame.columns]
            if absent:
                raise SchemaError(
                    f"ColumnTransformer: input lacks the column(s) {absent} used by {name!r}"
                )
            with in_step("ColumnTransformer", name):
                if step == "passthrough":
                    outputs.append(frame.floats(columns, "ColumnTransformer"))
                else:
                    outputs.append(
                        step.transform(step_input(step, frame, columns, "ColumnTransformer"))
                    )
        return outputs

    def _stack(self, outputs: list, rows: int):
        if not outputs:
            return np.empty((rows, 0), dtype=np.float64)
        if self.sparse_output_:
            sparse = scipy_sparse()
            blocks = [o if hasattr(o, "toarray") else sparse.csr_matrix(o) for o in outputs]
            return sparse.hstack(blocks, format="csr", dtype=np.float64)
        outputs = [dense(o) for o in outputs]
        return np.hstack([np.asarray(o, dtype=np.float64) for o in outputs])

    def fit_transform(self, X, y=None, *, dtype: DTypeLike = np.float64):
        return self.fit(X).transform(X, dtype=dtype)

    def _feature_names(self) -> list[str]:
        names = []
        for name, step, columns in self.transformers_:
            if step == "drop" or not columns:
                continue
            if step == "passthrough":
                own = list(columns)
            elif hasattr(step, "get_feature_names_out"):
                own = [str(n) for n in step.get_feature_names_out(list(columns))]
            else:
                raise SchemaError(
                    f"ColumnTransformer: transformer {name!r} ({type(step).__name__}) does not "
                    "provide get_feature_names_out"
                )
            names.extend(f"{name}__{n}" if self.verbose_feature_names_out else n for n in own)
        if not self.verbose_feature_names_out and len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise SchemaError(
                f"ColumnTransformer: output feature names are not unique: {dupes}; "
                "set verbose_feature_names_out=True"
            )
        return names

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``<transformer name>__<feature>`` (or the features' own names)."""
        self._check_fitted()
        return np.asarray(self._feature_names(), dtype=object)

    @property
    def output_indices_(self) -> dict[str, slice]:
        self._check_fitted()
        out, at = {}, 0
        for name, step, columns in self.transformers_:
            if step == "drop" or not columns:
                out[name] = slice(0, 0)
                continue
            width = (
                len(columns)
                if step == "passthrough"
                else len(step.get_feature_names_out(list(columns)))
            )
            out[name] = slice(at, at + width)
            at += width
        out.setdefault("remainder", slice(0, 0))
        return out


class DensityPart:
    """The stored and total cells of a ColumnTransformer's outputs on a batch, summed across
    batches: scikit-learn's density rule over all rows, for a fit in stages."""

    def __init__(self, ct: ColumnTransformer):
        self.ct: ColumnTransformer | None = ct
        self.stored = self.total = 0
        self.sparse = False

    def fit(self, frame: Frame, y=None) -> DensityPart:
        assert self.ct is not None
        for o in self.ct._outputs(frame):
            self.stored += o.nnz if hasattr(o, "nnz") else o.size
            self.total += o.shape[0] * o.shape[1]
            self.sparse |= hasattr(o, "toarray")
        self.ct = None  # only the counts travel back
        return self

    def merge(self, other: DensityPart) -> DensityPart:
        self.stored += other.stored
        self.total += other.total
        self.sparse |= other.sparse
        return self
