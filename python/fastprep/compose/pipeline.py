"""Pipeline: fitted steps applied in order, with scikit-learn's semantics (see
``fastprep.compose``)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from fastprep import _plan
from fastprep._base import Fitted
from fastprep._input import Frame, positional_names, width_mismatch
from fastprep._output import as_dtype
from fastprep._state import Part, State, build
from fastprep.compose._composite import (
    Composite,
    check_steps,
    is_fastprep,
    may_be_sparse,
    part_state,
    step_input,
    takes_tables,
)
from fastprep.compose.plan import CompiledPlan, compile_spec
from fastprep.exceptions import FastprepError, ParameterError, SchemaError

__all__ = ["Pipeline"]


class Pipeline(Composite):
    """Steps applied in order: each but the last is fitted and then transforms the data for
    the next (scikit-learn's Pipeline, for transforms).

    ``partial_fit`` feeds each batch through the steps as fitted so far, then into the next
    step's ``partial_fit``: exact when every step but the last is stateless or already fitted,
    an approximation otherwise (an imputer's fill value still moving while a scaler after it
    accumulates); ``fit`` is exact.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> pipe = fp.Pipeline([("impute", fp.SimpleImputer()), ("scale", fp.StandardScaler())])
    >>> pipe.fit_transform(np.array([[1.0], [np.nan], [3.0]])).ravel().tolist()
    [-1.224744871391589, 0.0, 1.224744871391589]
    """

    _parts_param = "steps"

    def __init__(self, steps):
        self.steps = steps

    def _named_parts(self) -> list[tuple[str, Any]]:
        if not isinstance(self.steps, (list, tuple)):
            return []  # refused by check_steps at fit; get_params and set_params still work
        return [tuple(s) for s in self.steps if isinstance(s, (list, tuple)) and len(s) == 2]

    def _replace_part(self, name: str, value: Any) -> None:
        self.steps = [(n, value if n == name else s) for n, s in self.steps]

    @property
    def named_steps(self) -> dict[str, Any]:
        return dict(self.steps)

    def _reads_strings_in(self) -> bool:
        active = self._active()
        if not active:
            return False
        first = active[0][1]
        if is_fastprep(first):
            return first.__sklearn_tags__().input_tags.string
        return takes_tables(first)

    def _active(self):
        return [(n, s) for n, s in self.steps if s not in ("passthrough", None)]

    def _plan_part(self) -> dict | None:
        """The steps' chain in a compiled plan: numeric steps one after the other, or a string
        imputer folded into the encoder after it (the fill is looked up for a missing value)."""
        active = [s for _, s in self._active()]
        parts = [_plan.part_of(s) for s in active]
        if all(p is not None and "steps" in p for p in parts):
            return {"steps": [step for p in parts for step in p["steps"]]}
        fills = getattr(active[0], "_string_fills", None) if len(active) == 2 else None
        fills = fills() if fills is not None and _plan.part_of(active[1]) is not None else None
        return None if fills is None else active[1]._plan_part(fills)

    def _first_input(self, X):
        """The first step's input: a dict of columns for a table-reading step, else floats."""
        active = self._active()
        if (
            isinstance(X, np.ndarray)
            and X.ndim == 2
            and X.dtype == np.float64
            and not (active and takes_tables(active[0][1]))
        ):
            # Already what a numeric first step takes (a ColumnTransformer's float block).
            return X, Frame.of_matrix(X)
        frame = Frame.of(X, "Pipeline")
        if active and takes_tables(active[0][1], frame):
            return frame.select(frame.names), frame
        if (
            active
            and not is_fastprep(active[0][1])
            and not all(frame.is_numeric(n) for n in frame.names)
        ):
            return step_input(active[0][1], frame, frame.names, "Pipeline"), frame
        return frame.floats(frame.names, "Pipeline"), frame

    def fit(self, X, y=None) -> Pipeline:
        """Fit each step on the output of the steps before it."""
        check_steps(self.steps, "Pipeline")
        data, frame = self._first_input(X)
        active = self._active()
        for i, (_, step) in enumerate(active):
            if i < len(active) - 1:
                data = (
                    step.fit(data).transform(data)
                    if not hasattr(step, "fit_transform")
                    else step.fit_transform(data)
                )
            else:
                step.fit(data)
        self._record_input(frame, partial=False)
        return self

    def partial_fit(self, X, y=None) -> Pipeline:
        """Add a batch to every step's fit (see the class docstring)."""
        check_steps(self.steps, "Pipeline")
        data, frame = self._first_input(X)
        for _, step in self._active():
            if not hasattr(step, "partial_fit"):
                raise ParameterError(f"Pipeline: step {type(step).__name__} has no partial_fit")
            step.partial_fit(data)
            data = step.transform(data)
        self._record_input(frame, partial=True)
        return self

    def _record_input(self, frame: Frame, partial: bool) -> None:
        self._set_input(frame)
        self._capture_drift(frame, partial)
        self._plan = self._compile()

    # -- the state ----------------------------------------------------------------------------

    def _state_parts(self) -> tuple[Part, ...]:
        return tuple(part_state(n, "passthrough" if s is None else s) for n, s in self.steps)

    @classmethod
    def _from_state(cls, state: State, where: str = "") -> Pipeline:
        """A rebuilt pipeline: its fitted steps, checked to chain (each step's output width is
        the next one's input width)."""
        parts = cls._checked(state)
        if state.params or any(p.columns is not None for p in parts):
            raise SchemaError("Pipeline: malformed parts")
        steps = []
        for p in parts:
            if isinstance(p.state, str) and p.state != "passthrough":
                raise SchemaError(f"Pipeline: unknown step {p.state!r}")
            step = p.state if isinstance(p.state, str) else build(p.state, f"{where}{p.name}/")
            steps.append((p.name, step))
        pipe = cls(steps)
        check_steps(pipe.steps, "Pipeline")
        values = dict(state.values)
        pipe._restore_input(values)
        if values:
            raise SchemaError(f"Pipeline: unexpected state {sorted(values)}")
        active = [s for _, s in pipe._active()]
        for before, after in itertools.pairwise(active):
            width = (
                before._n_features_out()
                if isinstance(before, Fitted)
                else len(before.get_feature_names_out())
            )
            if width != getattr(after, "n_features_in_", width):
                raise SchemaError(
                    f"Pipeline: {type(before).__name__} gives {width} columns but "
                    f"{type(after).__name__} takes {after.n_features_in_}"
                )
        if active and not takes_tables(active[0]):
            first = getattr(active[0], "n_features_in_", pipe.n_features_in_)
            if first != pipe.n_features_in_:
                raise SchemaError(
                    f"Pipeline: the first step takes {first} columns, the pipeline "
                    f"{pipe.n_features_in_}"
                )
        return pipe

    def _compile(self) -> CompiledPlan | None:
        """A Pipeline of numeric steps as a one-block plan over all its (numeric) columns."""
        names = getattr(self, "feature_names_in_", None)
        names = positional_names(self.n_features_in_) if names is None else list(names)
        if not all(self._kinds.get(n) == "numeric" for n in names):
            return None
        try:
            width = self._n_features_out()
        except (FastprepError, AttributeError, TypeError, ValueError):
            return None
        return compile_spec(_plan.spec([(self, names)], width))

    def _n_features_out(self) -> int:
        self._check_fitted()
        active = self._active()
        if not active:
            return int(self.n_features_in_)
        last = active[-1][1]
        if isinstance(last, Fitted):
            return last._n_features_out()
        return len(self.get_feature_names_out())

    def _reads_tables(self, frame=None, names=None) -> bool:
        active = self._active()
        return bool(active) and takes_tables(active[0][1], frame, names)

    def _may_output_sparse(self) -> bool:
        active = self._active()
        return bool(active) and may_be_sparse(active[-1][1])

    def _input_steps(self):
        active = self._active()
        if not active:
            return
        first = active[0][1]
        if isinstance(first, Composite):
            yield from first._input_steps()
            return
        names = getattr(self, "feature_names_in_", None)
        yield (None if names is None else [str(n) for n in names]), first

    def _input_names_used(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            raise SchemaError(
                "Pipeline: transform_one / transform_records need a pipeline fitted on named "
                "columns (a dict, a Table, a DataFrame)"
            )
        return list(names)

    def transform(self, X, *, dtype=np.float64):
        """Apply every step in order; the result is rounded once to ``dtype``."""
        self._check_fitted()
        data, frame = self._first_input(X)
        names = getattr(self, "feature_names_in_", None)
        if names is not None and not frame.positional:
            absent = [n for n in names if n not in frame.columns]
            if absent:
                raise SchemaError(f"Pipeline: input lacks the fitted column(s) {absent}")
            data, _ = self._first_input(
                Frame(list(names), frame.select(list(names)), frame.rows, False)
            )
            frame = Frame(list(names), frame.select(list(names)), frame.rows, False)
        elif len(frame.names) != self.n_features_in_:
            raise width_mismatch("Pipeline", len(frame.names), self.n_features_in_)
        out, tallies = (None, None) if self._by_kernels(data) else self._run_native(frame, dtype)
        if out is None:
            for _, step in self._active():
                data = step.transform(data)
            out = as_dtype(data, dtype)
        self._feed(frame, tallies)
        return out

    def _by_kernels(self, data) -> bool:
        """Whether a batch goes through each step's own kernel rather than the compiled plan:
        a float64 matrix through fastprep's numeric transforms. Each kernel streams the whole
        matrix in row blocks; the plan maps one row at a time through every step, which pays
        for single requests (``transform_one``) and for tables of mixed columns, not here
        (benches/README.md has the measurement). The numbers are the same: both compute in
        float64 and round once to ``dtype``."""
        active = self._active()
        return (
            bool(active)
            and isinstance(data, np.ndarray)
            and data.ndim == 2
            and data.dtype == np.float64
            and all(
                is_fastprep(step)
                and not isinstance(step, Composite)
                and not takes_tables(step)
                and not may_be_sparse(step)
                for _, step in active
            )
        )

    def fit_transform(self, X, y=None, *, dtype=np.float64):
        return self.fit(X).transform(X, dtype=dtype)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        self._check_fitted()
        names = input_features
        if names is None:
            names = getattr(self, "feature_names_in_", None)
        for _, step in self._active():
            names = step.get_feature_names_out(names)
        return np.asarray(names, dtype=object)
