"""Pipeline: fitted steps applied in order, with scikit-learn's semantics (see
``fastprep.compose``)."""

from __future__ import annotations

import functools
import itertools
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from fastprep import _backend, _plan
from fastprep._base import Fitted, _in_output_container
from fastprep._input import Frame, positional_names, width_mismatch
from fastprep._output import as_dtype, into
from fastprep._state import Part, State, build
from fastprep.compose._composite import (
    Composite,
    DriftPart,
    check_steps,
    in_step,
    is_fastprep,
    may_be_sparse,
    part_state,
    stage_path,
    step_input,
    takes_tables,
)
from fastprep.compose.plan import CompiledPlan, compile_spec
from fastprep.exceptions import ArtifactError, FastprepError, ParameterError, SchemaError
from fastprep.linear import LinearClassifier, _LinearModel

if TYPE_CHECKING:
    from numpy.typing import DTypeLike
    from typing_extensions import Self

__all__ = ["Pipeline"]


#: What makes a final step a model rather than a transform.
_MODEL_METHODS = ("predict", "predict_proba", "decision_function")


class _if_model_has:
    """A method of the pipeline that exists when its final step is a model having ``name``
    (scikit-learn's ``available_if``): ``hasattr(pipe, "predict_proba")`` tells what the
    model can do."""

    def __init__(self, fn, *, needs: str | None = None):
        self.fn = fn
        self.name = needs or fn.__name__
        functools.update_wrapper(self, fn)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        model = obj._model()
        if model is None or not hasattr(model[1], self.name):
            what = "no model" if model is None else f"{type(model[1]).__name__}, which has none"
            raise AttributeError(f"Pipeline has no {self.name}: its final step is {what}")
        return types.MethodType(self.fn, obj)


class _unless_model:
    """A transforming method that does not exist when a final model cannot answer it (as
    scikit-learn's Pipeline, where ``hasattr(pipe, "transform")`` says whether it
    transforms): ``transform`` and ``fit_transform`` need a model that transforms; the
    request-row methods, which give features, exist only without a model."""

    _in_container = True  # the output container is applied by the method given, if at all

    def __init__(self, fn, *, rows: bool = False, needs: str = "transform"):
        self.fn = fn
        self.rows = rows
        self.needs = needs
        functools.update_wrapper(self, fn)

    def _lacks(self, model) -> bool:
        return self.rows or not hasattr(model, self.needs)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        steps = obj.steps
        last = steps[-1][1] if steps and isinstance(steps, list) else None
        if not (is_fastprep(last) and hasattr(last, "transform")):
            model = obj._model()
            if model is not None and self._lacks(model[1]):
                name = self.fn.__name__
                raise AttributeError(
                    f"Pipeline has no {name}: its final step {model[0]!r} is a "
                    f"{type(model[1]).__name__}; pipe[:-1].{name} gives the features it reads"
                )
        return types.MethodType(self.fn, obj)


class Pipeline(Composite):
    """Steps applied in order: each but the last is fitted and then transforms the data for
    the next (scikit-learn's Pipeline, for transforms).

    ``partial_fit`` feeds each batch through the steps as fitted so far, then into the next
    step's ``partial_fit``: exact when every step but the last is stateless or already fitted,
    an approximation otherwise (an imputer's fill value still moving while a scaler after it
    accumulates); ``fit`` is exact.

    The last step may be a model (any scikit-learn estimator): ``fit(X, y, **params)`` fits the
    steps and then the model on their output, with ``y`` given to every step and
    ``step__param`` fit parameters routed to the step named, as scikit-learn's Pipeline routes
    them; ``predict``, ``predict_proba``, ``predict_log_proba``, ``decision_function``,
    ``score`` and ``fit_predict`` exist when the model has them. The steps before it still
    compile into one native plan. ``pipe[:-1]`` is the fitted preprocessing alone, which is
    what saves: a model that is not fastprep's is not saved with it.

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
        """The transform steps (a final model excluded), passthrough dropped."""
        steps = self.steps[:-1] if self._model() is not None else self.steps
        return [(n, s) for n, s in steps if s not in ("passthrough", None)]

    def _model(self) -> tuple[str, Any] | None:
        """``(name, model)`` when the final step is a model: one without ``transform`` (such
        as fastprep's linear models), or one not fastprep's that predicts."""
        steps = self.steps
        if not isinstance(steps, (list, tuple)) or not steps:
            return None
        last = steps[-1]
        if not (isinstance(last, (list, tuple)) and len(last) == 2):
            return None
        step = last[1]
        if step in ("passthrough", None):
            return None
        if is_fastprep(step):
            return None if hasattr(step, "transform") else (last[0], step)
        if not hasattr(step, "transform") or any(hasattr(step, m) for m in _MODEL_METHODS):
            return last[0], step
        return None

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, ind):
        """A step by position or name, or a sub-pipeline by slice (scikit-learn's indexing).
        A fitted pipeline's slice from the start is fitted: ``pipe[:-1]`` is its
        preprocessing, with the same input record."""
        if isinstance(ind, str):
            return self.named_steps[ind]
        if not isinstance(ind, slice):
            return self.steps[ind][1]
        if ind.step not in (None, 1):
            raise ParameterError("Pipeline: a slice of steps has no step size")
        sub = Pipeline(list(self.steps[ind]))
        if self.is_fitted and (ind.start or 0) == 0 and sub.steps:
            sub._set_record(self.n_features_in_, getattr(self, "feature_names_in_", None))
            sub._kinds = dict(self._kinds)
            sub._fitted = True
        return sub

    @property
    def classes_(self):
        model = self._model()
        if model is None:
            raise AttributeError("Pipeline has no classes_: its final step is no model")
        return model[1].classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        model = self._model()
        if model is not None:  # the model's kind, as scikit-learn's Pipeline reports it
            from sklearn.utils import get_tags

            own = get_tags(model[1])
            # NaN reaches the model unless a step before it fills it in.
            filled = any(getattr(s, "_fills_missing", False) for _, s in self._active())
            tags.input_tags.allow_nan = own.input_tags.allow_nan or filled
            tags.estimator_type = own.estimator_type
            tags.classifier_tags = own.classifier_tags
            tags.regressor_tags = own.regressor_tags
            tags.target_tags = own.target_tags
            tags.transformer_tags = own.transformer_tags
        return tags

    def _routed(self, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Fit parameters ``step__param`` by step name (scikit-learn's routing)."""
        names = {n for n, _ in self.steps}
        out: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            step, sep, param = key.partition("__")
            if not sep or step not in names:
                raise ParameterError(
                    f"Pipeline: fit parameter {key!r} is not step__parameter of a step "
                    f"({', '.join(sorted(names))})"
                )
            out.setdefault(step, {})[param] = value
        return out

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

    def fit(self, X, y=None, **params) -> Self:
        """Fit each step on the output of the steps before it, and a final model on the last
        output; ``y`` reaches every step, ``step__param`` the step named."""
        check_steps(self.steps, "Pipeline", model_last=True)
        routed = self._routed(params)
        data, frame = self._fit_steps(X, y, routed)
        model = self._model()
        if model is not None:
            model[1].fit(data, y, **routed.get(model[0], {}))
        self._record_input(frame, partial=False)
        return self

    def _fit_steps(self, X, y, routed):
        """Fit the transform steps; their output on ``X`` when a model follows them."""
        data, frame = self._first_input(X)
        active, model = self._active(), self._model()
        for i, (name, step) in enumerate(active):
            if i < len(active) - 1 or model is not None:
                data = (
                    step.fit(data, y, **routed.get(name, {})).transform(data)
                    if not hasattr(step, "fit_transform")
                    else step.fit_transform(data, y, **routed.get(name, {}))
                )
            else:
                step.fit(data, y, **routed.get(name, {}))
        return data, frame

    @functools.partial(_unless_model, needs="partial_fit")
    def partial_fit(self, X, y=None, **params) -> Self:
        """Add a batch to every step's fit (see the class docstring). Parameters without a
        ``step__`` prefix go to a final model (``classes=`` of a classifier's)."""
        check_steps(self.steps, "Pipeline", model_last=True)
        model = self._model()
        if model is not None:
            own = {k: v for k, v in params.items() if "__" not in k}
            params = {
                **{k: v for k, v in params.items() if "__" in k},
                **{f"{model[0]}__{k}": v for k, v in own.items()},
            }
        routed = self._routed(params)
        data, frame = self._first_input(X)
        model = self._model()
        steps = [*self._active(), *([model] if model is not None else [])]
        for i, (name, step) in enumerate(steps):
            if not hasattr(step, "partial_fit"):
                raise ParameterError(f"Pipeline: step {type(step).__name__} has no partial_fit")
            step.partial_fit(data, y, **routed.get(name, {}))
            if i < len(steps) - 1:
                data = step.transform(data)
        self._record_input(frame, partial=True)
        return self

    # -- a fit in stages (fastprep.dask) ---------------------------------------------------

    def _stages(self) -> int:
        check_steps(self.steps, "Pipeline", model_last=True)
        model = self._model()
        if model is not None:
            raise ParameterError(
                f"Pipeline: the final model {model[0]!r} ({type(model[1]).__name__}) is not "
                "fitted in parts: fit the preprocessing, then the model on its output"
            )
        return sum(step._stages() for _, step in self._active())

    def _stage_step(self, X, stage: int):
        """``(name, step, its input, the step's own stage, the pipeline's input frame)`` of
        the step ``stage`` fits: the steps before it, fitted by earlier stages, transform."""
        data, frame = self._first_input(X)
        for name, step in self._active():
            n = step._stages()
            if stage < n:
                return name, step, data, stage, frame
            with in_step("Pipeline", name):
                data = step.transform(data)
            stage -= n
        raise ParameterError(f"Pipeline: no stage {stage}")

    def _stage_begin(self, X, stage: int) -> None:
        _, step, data, own, frame = self._stage_step(X, stage)
        if stage == 0:
            self._set_input(frame)
        step._stage_begin(data, own)

    def _stage_parts(self, X, stage: int, path: str) -> list:
        name, step, data, own, frame = self._stage_step(X, stage)
        parts = step._stage_parts(data, own, stage_path(path, name))
        if stage == 0:
            parts.append((stage_path(path, "#drift"), DriftPart(), frame))
        return parts

    def _stage_put(self, path: str, fitted) -> None:
        head, _, rest = path.partition("__")
        if head == "#drift":
            return self._put_drift(fitted)
        step = dict(self.steps)[head]
        if rest:
            return step._stage_put(rest, fitted)
        self.steps = [(n, fitted if n == head else s) for n, s in self.steps]

    def _stage_end(self) -> None:
        for _, step in self._active():
            step._stage_end()
        self._plan = self._compile()

    # -- a final model ---------------------------------------------------------------------

    def _model_input(self, X):
        self._check_fitted()
        return self._features(X, np.float64)

    def _in_plan(self, X, link: str | None, log: bool = False) -> np.ndarray | None:
        """A final linear model's scores (``link`` None) or probabilities, computed by the
        plan in the pass that computes the features (no feature matrix is made), or None
        where the features take the usual path."""
        model = self._model()
        if (
            model is None
            or not isinstance(model[1], _LinearModel)
            or self.__dict__.get("_drift_monitors")
            or not self._runs_native()
        ):
            return None
        self._check_fitted()
        _, frame = self._fitted_input(X)
        coef, intercept = model[1]._weights()
        return self._plan.run_frame_model(frame, self._name, coef, intercept, link, log)

    @_if_model_has
    def predict(self, X, **params):
        """The model's predictions on the steps' output."""
        model = self._model()[1]
        if not params and hasattr(model, "_predicted"):
            scores = self._in_plan(X, None)
            if scores is not None:
                return model._predicted(scores)
        return model.predict(self._model_input(X), **params)

    @_if_model_has
    def predict_proba(self, X, **params):
        if not params:
            out = self._in_plan(X, getattr(self._model()[1], "link", None))
            if out is not None:
                return out
        return self._model()[1].predict_proba(self._model_input(X), **params)

    @_if_model_has
    def predict_log_proba(self, X, **params):
        if not params:
            out = self._in_plan(X, getattr(self._model()[1], "link", None), log=True)
            if out is not None:
                return out
        return self._model()[1].predict_log_proba(self._model_input(X), **params)

    @_if_model_has
    def decision_function(self, X, **params):
        if not params and hasattr(self._model()[1], "classes_"):
            scores = self._in_plan(X, None)
            if scores is not None:
                return scores[:, 0] if scores.shape[1] == 1 else scores
        return self._model()[1].decision_function(self._model_input(X), **params)

    # -- a final model, one request record at a time ------------------------------------------

    def _record_features(self, record) -> np.ndarray:
        """The steps' output for one request record (a 2-D row): the plan's row path when it
        can take the record, else the batch path, with the same numbers."""
        if not isinstance(record, Mapping):
            raise SchemaError(
                f"Pipeline: a record is a mapping of column name to value, got "
                f"{type(record).__name__}"
            )
        if type(record) is dict:
            row = self._native_rows(0, record, np.float64, install=False)
            if row is not None:
                return row[None, :]
        return self._features(self._records_frame([record]), np.float64)

    @functools.partial(_if_model_has, needs="predict")
    def predict_one(self, record: Mapping[str, Any]):
        """The model's prediction for one request record (plain Python values by column
        name): ``predict`` of the same values, as one label or number. After a first call,
        one native call where the model is fastprep's (see ``transform_one``)."""
        return self._record_answer("predict_one", record)

    @functools.partial(_if_model_has, needs="predict_proba")
    def predict_proba_one(self, record: Mapping[str, Any]) -> np.ndarray:
        """The class probabilities of one request record (1-D, in ``classes_`` order)."""
        return self._record_answer("predict_proba_one", record)

    @functools.partial(_if_model_has, needs="decision_function")
    def decision_function_one(self, record: Mapping[str, Any]):
        """The model's score (one number for two classes) or scores of one request record."""
        return self._record_answer("decision_function_one", record)

    def _record_answer(self, method: str, record):
        out = self._record_answer_slow(method, record)
        if type(record) is dict and not self.__dict__.get("_drift_monitors"):
            self._install_model_row_call(method)
        return out

    def _record_answer_slow(self, method: str, record):
        """``method``'s answer by the model's batch method on the record's features."""
        model = self._model()[1]
        answer = getattr(model, method.removesuffix("_one"))(self._record_features(record))[0]
        # A score is a float, as the native entry gives it; a label stays NumPy's scalar.
        is_score = method == "decision_function_one" or not hasattr(model, "classes_")
        return float(answer) if is_score and np.ndim(answer) == 0 else answer

    def _install_model_row_call(self, method: str) -> None:
        """From now on ``self.<method>`` is one native call (``fastprep._core.ModelRowCall``:
        the plan's row path, then the linear model's kernel), when the model is fastprep's
        and the plan has a row path; it hands any record it does not take to
        ``_record_answer_slow``."""
        model = self._model()[1]
        if method in self.__dict__ or not isinstance(model, _LinearModel):
            return
        runners = self._cached("native_rows", self._row_runners)
        if runners[0] is None or _backend._core is None:
            return
        coef, intercept = model._weights()
        classifier = isinstance(model, LinearClassifier)
        answer = method.removesuffix("_one")
        if answer == "predict" and not classifier:
            answer = "decision_function"  # a regressor's prediction is its score
        slow = functools.partial(self._record_answer_slow, method)
        self.__dict__[method] = _backend._core.ModelRowCall(
            runners[0].__self__,
            self._name,
            coef,
            intercept,
            model.link if classifier else None,
            answer,
            np.asarray(model.classes_) if classifier else None,
            _backend._override.get,
            _backend,
            slow,
        ).call

    @_if_model_has
    def score(self, X, y=None, sample_weight=None, **params):
        if sample_weight is not None:
            params["sample_weight"] = sample_weight
        return self._model()[1].score(self._model_input(X), y, **params)

    @_if_model_has
    def fit_predict(self, X, y=None, **params):
        check_steps(self.steps, "Pipeline", model_last=True)
        routed = self._routed(params)
        data, frame = self._fit_steps(X, y, routed)
        name, model = self._model()
        out = model.fit_predict(data, y, **routed.get(name, {}))
        self._record_input(frame, partial=False)
        return out

    def _record_input(self, frame: Frame, partial: bool) -> None:
        self._set_input(frame)
        self._capture_drift(frame, partial)
        self._plan = self._compile()

    # -- the state ----------------------------------------------------------------------------

    def _state_parts(self) -> tuple[Part, ...]:
        model = self._model()
        if model is not None and not is_fastprep(model[1]):
            raise ArtifactError(
                f"Pipeline: the final step {model[0]!r} ({type(model[1]).__name__}) is not a "
                "fastprep object and is not saved with the pipeline; save the preprocessing "
                "alone with pipe[:-1].save(path), and the model with its own library"
            )
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
        check_steps(pipe.steps, "Pipeline", model_last=True)
        values = dict(state.values)
        pipe._restore_input(values)
        if values:
            raise SchemaError(f"Pipeline: unexpected state {sorted(values)}")
        model = pipe._model()
        active = [s for _, s in pipe._active()] + ([model[1]] if model is not None else [])
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
        """A Pipeline of numeric steps as a one-block plan over all its (numeric) columns; none
        when its output is sparse (the plan writes dense rows)."""
        if self._may_output_sparse():
            return None
        active = self._active()
        if len(active) == 1 and isinstance(active[0][1], Composite):
            # One composition (a ColumnTransformer before a model): its plan is this one's.
            return active[0][1]._plan
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
        return len(self._features_out())

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

    @functools.partial(_unless_model)
    @_in_output_container
    def transform(self, X, *, dtype: DTypeLike = np.float64, out: np.ndarray | None = None):
        """Apply every step in order; the result is rounded once to ``dtype``. ``out``: an
        array of the output's shape and dtype to copy the result into and return."""
        self._check_fitted()
        result = self._features(X, dtype)
        model = self._model()
        if model is not None:
            result = model[1].transform(result)
        return result if out is None else into(out, result, self._name)

    @functools.partial(_unless_model, rows=True)
    def transform_one(self, row, *, dtype: DTypeLike = np.float64) -> np.ndarray:
        return Composite.transform_one(self, row, dtype=dtype)

    @functools.partial(_unless_model, rows=True)
    def transform_records(self, rows, *, dtype: DTypeLike = np.float64):
        return Composite.transform_records(self, rows, dtype=dtype)

    def _fitted_input(self, X):
        """``(the first step's input, the frame)`` of the fitted columns of ``X``."""
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
        return data, frame

    def _features(self, X, dtype):
        """The transform steps' output (a final model's input)."""
        data, frame = self._fitted_input(X)
        out, tallies = (None, None) if self._by_kernels(data) else self._run_native(frame, dtype)
        if out is None:
            for name, step in self._active():
                with in_step("Pipeline", name):
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

    @functools.partial(_unless_model)
    @_in_output_container
    def fit_transform(self, X, y=None, *, dtype: DTypeLike = np.float64, **params):
        return self.fit(X, y, **params).transform(X, dtype=dtype)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        model = self._model()
        names = self._features_out(input_features)
        if model is None:
            return names
        if not hasattr(model[1], "get_feature_names_out"):
            raise AttributeError(
                f"Pipeline has no get_feature_names_out: its final step {model[0]!r} is a "
                f"{type(model[1]).__name__}; pipe[:-1].get_feature_names_out() names the "
                "features it reads"
            )
        return np.asarray(model[1].get_feature_names_out(names), dtype=object)

    def _features_out(self, input_features=None) -> np.ndarray:
        """The names of the transform steps' output."""
        self._check_fitted()
        names = input_features
        if names is None:
            names = getattr(self, "feature_names_in_", None)
        for _, step in self._active():
            names = step.get_feature_names_out(names)
        return np.asarray(names, dtype=object)
