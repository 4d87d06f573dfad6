"""The one base of every fitted object, and the base of the numeric transforms.

``Fitted`` owns what every fastprep object shares: scikit-learn's parameter protocol
(parameters are the ``__init__`` arguments, stored unchanged; ``get_params`` / ``set_params``
/ ``repr``, with the nested ``name__param`` parameters of a composition's parts), the fitted
check, the state protocol (``_state`` gives the object as data, ``_from_state`` rebuilds and
validates it; see ``fastprep._state``), the fingerprint and ``save``. A subclass registers its
kind by being defined; an abstract base says ``abstract=True``.

``Transform`` adds the mergeable fit of the numeric transforms (``fit`` = one ``partial_fit``
from scratch; ``merge`` combines fits of other rows) and their state: the fitted attributes
``_finalize`` returns.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from fastprep import _backend, _plan, artifact
from fastprep._input import (
    as_csr,
    as_float_matrix,
    column_label,
    csr_parts,
    is_sparse,
    match_columns,
    no_columns,
    positional_names,
    read_matrix,
    sparse_refused,
    with_values,
)
from fastprep._output import check_container, check_out, in_container, pandas_index
from fastprep._state import Part, State, digest, register
from fastprep.accumulators import FitAccumulator, Moments, ValueBuffer
from fastprep.exceptions import (
    ArtifactError,
    DataError,
    FastprepError,
    NotFittedError,
    ParameterError,
    SchemaError,
    not_fitted,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Fitted", "InvertibleTransform", "Transform"]

#: The request methods a fitted composition replaces by native callables after a first call
#: (instance attributes; dropped by a new state and by an attached drift monitor).
NATIVE_ENTRIES = (
    "transform_one",
    "transform_records",
    "predict_one",
    "predict_proba_one",
    "decision_function_one",
)

#: What a fitted value may be called: an attribute name, never a dunder.
_VALUE_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")


class Fitted:
    """The base of every fitted object (see the module docstring)."""

    # What is derived from the state and kept for speed (lookup tables, a compiled plan)
    # lives in this slot, outside ``__dict__``: ``__dict__`` holds parameters and state only,
    # so using an object never changes it and a pickle never carries the derived objects.
    __slots__ = ("_cache",)

    #: scikit-learn's record of a fit's input: the number of columns, and their names when
    #: the input named them.
    n_features_in_: int
    feature_names_in_: np.ndarray

    #: A composition's parameter that holds its parts (``"steps"``, ``"transformers"``).
    _parts_param: ClassVar[str | None] = None
    #: Parameters added after artifacts of this class were first written, with the value
    #: those artifacts imply: the state leaves one out at that value, so that the bytes and
    #: fingerprint of an earlier fit stay what they were.
    _later_params: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not abstract:
            register(cls)
        for method in ("transform", "fit_transform"):
            if method in cls.__dict__ and not getattr(cls.__dict__[method], "_in_container", 0):
                setattr(cls, method, _in_output_container(cls.__dict__[method]))

    # -- parameters ----------------------------------------------------------------------------

    @classmethod
    def _param_names(cls) -> list[str]:
        names = cls.__dict__.get("_param_names_cache")
        if names is None:  # once per class: inspect costs more than a one-row transform
            ordinary = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            signature = inspect.signature(cls.__init__)
            names = [
                p.name
                for p in signature.parameters.values()
                if p.name != "self" and p.kind in ordinary
            ]
            cls._param_names_cache = names
        return names

    def _named_parts(self) -> list[tuple[str, Any]]:
        """A composition's parts by name (what nested parameters address)."""
        return []

    def _replace_part(self, name: str, value: Any) -> None:
        raise ParameterError(f"{self._name} has no part {name!r}")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters; with ``deep``, also each part's (or estimator parameter's) own as
        ``name__param``, as scikit-learn gives them."""
        params = {name: getattr(self, name) for name in self._param_names()}
        if not deep:
            return params
        out = dict(params)
        nested = [(k, v) for k, v in params.items() if k != self._parts_param]
        for name, value in [*nested, *self._named_parts()]:
            out[name] = value
            if hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> Self:
        """Set parameters, a part by its name, or a part's parameter as ``name__param``."""
        valid = self._param_names()
        if self._parts_param is not None and self._parts_param in params:
            setattr(self, self._parts_param, params.pop(self._parts_param))
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            parts = dict(self._named_parts())
            if sub:
                target = parts[name] if name in parts else getattr(self, name, None)
                if (name not in parts and name not in valid) or not hasattr(target, "set_params"):
                    raise ParameterError(f"{self._name} has no part or estimator {name!r}")
                nested.setdefault(name, {})[sub] = value
            elif name in valid:
                setattr(self, name, value)
            elif name in parts:
                self._replace_part(name, value)
            else:
                raise ParameterError(
                    f"{self._name} has no parameter {name!r}; valid: {', '.join(valid)}"
                )
        for name, sub in nested.items():
            parts = dict(self._named_parts())
            (parts[name] if name in parts else getattr(self, name)).set_params(**sub)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        defaults = {p.name: p.default for p in signature.parameters.values()}
        # Same type and same repr as the default: comparing by repr stays safe for arrays.
        shown = [
            f"{k}={v!r}"
            for k, v in self.get_params(deep=False).items()
            if not (type(v) is type(defaults.get(k)) and repr(v) == repr(defaults.get(k)))
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _validate_params(self) -> None:
        """Raise ParameterError for a parameter outside its domain."""

    # -- fitted --------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "n_features_in_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            how = "fit or partial_fit" if hasattr(type(self), "partial_fit") else "fit"
            raise not_fitted(f"{self._name} is not fitted yet: call {how} before using it")

    def __sklearn_is_fitted__(self) -> bool:
        """scikit-learn's ``check_is_fitted`` asks this."""
        return self.is_fitted

    #: Whether the object transforms without a fit (its parameters are its whole state).
    _stateless: ClassVar[bool] = False
    #: Whether it reads columns of strings (categories) as well as numbers.
    _reads_strings: ClassVar[bool] = False

    def _accepts_sparse(self) -> bool:
        """Whether SciPy sparse input is read (as CSR; see ``Transform._transform_sparse``)."""
        return False

    def __sklearn_tags__(self):
        """scikit-learn's tags (scikit-learn calls this, so it is importable here): a
        transformer of 2-D input that keeps NaN, fitted unless stateless, with no target."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type="transformer",
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
            requires_fit=not self._stateless,
            input_tags=InputTags(
                sparse=self._accepts_sparse(),
                allow_nan=True,
                string=self._reads_strings,
                categorical=self._reads_strings,
            ),
        )

    # -- output containers --------------------------------------------------------------------

    def set_output(self, *, transform: str | None = None) -> Self:
        """The container of ``transform`` and ``fit_transform`` outputs: ``"default"`` (NumPy,
        or scipy when sparse), ``"pandas"``, ``"polars"`` or ``"pyarrow"``, whose columns are
        ``get_feature_names_out()``; ``None`` leaves it as it is. Unset, scikit-learn's global
        ``transform_output`` (``set_config``, ``config_context``) applies when scikit-learn is
        imported. Stored as scikit-learn stores it, so scikit-learn's Pipeline and
        ColumnTransformer set it on fastprep steps. Not part of the fitted state."""
        if transform is None:
            return self
        if transform != "default" and not hasattr(self, "get_feature_names_out"):
            raise ParameterError(
                f"{self._name} has no get_feature_names_out (its outputs are not named "
                "features, or it was not asked to name them): set_output does not apply"
            )
        check_container(transform, self._name)
        self._sklearn_output_config = {"transform": transform}
        return self

    #: Whether ``transform`` calls other objects' (a composition's steps), which must then
    #: return what they compute, whatever their own output container.
    _calls_steps: ClassVar[bool] = False

    def _output_container(self) -> str:
        config = self.__dict__.get("_sklearn_output_config")
        if config and "transform" in config:
            return config["transform"]
        sklearn = sys.modules.get("sklearn")  # unimported, it cannot have been configured
        if sklearn is None or not hasattr(sklearn, "get_config"):
            return "default"
        return sklearn.get_config().get("transform_output", "default")

    def _output_names(self, width: int) -> list[str]:
        try:
            return list(self.get_feature_names_out())
        except NotFittedError:  # a stateless transform used without fit
            return positional_names(width)

    # -- a fit in stages, over partitions (fastprep.dask) --------------------------------------

    def _stages(self) -> int:
        """The passes over the data a fit in parts takes: one for a fitted object that is not a
        composition; a composition's steps that read other steps' output add theirs."""
        return 1

    def _stage_begin(self, X, stage: int) -> None:
        """Before ``stage``, with a few rows ``X`` of this object's input: what a composition
        decides from its input's columns at that stage (its parts, its input record)."""

    def _stage_parts(self, X, stage: int, path: str) -> list[tuple[str, Any, Any]]:
        """``(path, object, input)`` of what ``stage`` fits on the batch ``X``: each part is
        fitted on its input, the fits of all batches merged, and the result put back at its
        path (``_stage_put``). An object that is not a composition is fitted whole at stage
        0."""
        return [(path, self, X)] if stage == 0 else []

    def _stage_put(self, path: str, fitted) -> None:
        """Put the merged fit of the part at ``path`` in place (compositions)."""
        raise ParameterError(f"{self._name} has no part {path!r}")

    def _stage_end(self) -> None:
        """After the last stage: what a composition derives from its fitted parts."""

    # -- pickle, copy.deepcopy, joblib ----------------------------------------------------------

    def __reduce_ex__(self, protocol):
        """A fitted object pickles as its artifact (``fastprep.dumps``): data only, digested,
        rebuilt and validated by ``fastprep.loads``, which rebuilds the compiled plan and the
        lookup tables too (Rust objects are never pickled). An unfitted object, or one holding
        a step that is not fastprep's, pickles its attributes, less what is rebuilt on use."""
        if self.is_fitted:
            try:
                data = artifact.dumps(self)
            except (ArtifactError, NotFittedError):
                pass  # a part that is not fastprep's, or one a fit in stages has yet to fit
            else:
                output = self.__dict__.get("_sklearn_output_config")
                return (_loaded, (data, output)) if output else (artifact.loads, (data,))
        return (_rebuilt, (type(self), self._picklable_attributes()))

    def _picklable_attributes(self) -> dict[str, Any]:
        """The attributes an attribute pickle keeps: not the compiled plan nor lookup tables
        (Rust objects, rebuilt on first use), nor attached drift monitors."""
        return {k: v for k, v in self.__dict__.items() if k not in _REBUILT_ON_USE}

    # -- the state protocol --------------------------------------------------------------------

    def _state(self) -> State:
        """This fitted object as data: kind, parameters, fitted values, parts."""
        self._check_fitted()
        params = self.get_params(deep=False)
        params.pop(self._parts_param, None)
        for name, default in self._later_params.items():
            value = params.get(name)
            if type(value) is type(default) and value == default:
                del params[name]
        return State(self._name, params, self._fitted_values(), self._state_parts())

    def _fitted_values(self) -> dict[str, Any]:
        """The fitted values of the state (named arrays and plain values)."""
        return {}

    def _state_parts(self) -> tuple[Part, ...] | None:
        """A composition's parts, as states (None: not a composition)."""
        return None

    @classmethod
    def _from_state(cls, state: State, where: str = ""):
        """The fitted object of a state, validated: anything no fit could give is refused.
        (Compositions, whose parts are states too, override this.)"""
        if state.parts is not None:
            raise SchemaError(f"{cls.__name__} has no parts")
        obj = cls(**state.params)
        obj._validate_params()
        obj._restore(dict(state.values))
        obj._validate_state()
        return obj

    def _restore(self, values: dict[str, Any]) -> None:
        """Take the fitted values of a state (by default, as attributes)."""
        self._set_fitted(values)

    def _record_values(self) -> dict[str, Any]:
        """The input record of the state: the number of input columns and their names."""
        values: dict[str, Any] = {"n_features_in_": int(self.n_features_in_)}
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            values["feature_names_in_"] = names
        return values

    def _restore_record(self, values: dict[str, Any]) -> list[str] | None:
        """Take the input record out of a state's ``values``, checked; the column names."""
        width, names = values.pop("n_features_in_", None), values.pop("feature_names_in_", None)
        if isinstance(width, bool) or not isinstance(width, int) or width < 0:
            raise SchemaError(f"{self._name} has no input width")
        if names is not None and (
            not isinstance(names, np.ndarray)
            or names.shape != (width,)
            or not all(isinstance(n, str) for n in names.tolist())
        ):
            raise SchemaError(f"{self._name} has malformed column names")
        self.n_features_in_ = width
        if names is not None:
            self.feature_names_in_ = names
        return None if names is None else names.tolist()

    def _cached(self, key, build):
        """``build()``, made once per ``key`` until ``_forget``."""
        try:
            cache = self._cache
        except AttributeError:
            cache = self._cache = {}
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def _forget(self) -> None:
        """Drop what was derived from the previous state (a new fit, a new state), the native
        request entry a composition installs included."""
        self._cache = {}
        for name in NATIVE_ENTRIES:
            self.__dict__.pop(name, None)

    def _set_record(self, width: int, names) -> None:
        """Record a fit's input: ``n_features_in_``, and ``feature_names_in_`` when it named
        its columns (scikit-learn's attributes)."""
        self.n_features_in_ = width
        if names is not None:
            self.feature_names_in_ = np.asarray([str(n) for n in names], dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)

    def _label(self, j: int) -> str:
        """How messages name input column ``j`` (during a fit, by that fit's names)."""
        names = self.__dict__.get("_fitting_names", getattr(self, "feature_names_in_", None))
        return column_label(j, names)

    def _names_or_none(self) -> list[str] | None:
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else [str(n) for n in names]

    def _fitted_positions(self, names, width: int, by_name: bool) -> list[int] | None:
        """Where the fitted columns are in an input of ``width`` columns named ``names``: None
        when the input is them, in order (``_input.match_columns`` has the rules)."""
        return match_columns(
            self._name, self._names_or_none(), self.n_features_in_, names, width, by_name=by_name
        )

    def _set_fitted(self, values: dict[str, Any]) -> None:
        """Set the fitted values of a state as attributes (names checked: a state cannot set
        a method or anything of the class's own)."""
        for key in values:
            if not isinstance(key, str) or not _VALUE_NAME.match(key) or hasattr(type(self), key):
                raise SchemaError(f"{self._name} has no fitted attribute {key!r}")
        for key, value in values.items():
            setattr(self, key, value)

    def _validate_state(self) -> None:
        """Raise for a rebuilt state that no fit could give."""

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical fitted state: equal states, equal fingerprints."""
        return digest(self._state())

    def save(self, path, metadata: dict | None = None):
        """Write the fitted state to ``path`` as one data-only artifact (see
        ``fastprep.artifact``); ``metadata`` (JSON: model name, version, training run, ...)
        is stored with it."""
        return artifact.save(self, path, metadata)

    # -- what an artifact records besides the state --------------------------------------------

    def _front(self) -> Fitted:
        """What reads this object's input (a bundle's preprocessing; else itself)."""
        return self

    def _input_steps(self) -> Iterator[tuple[list[str] | None, Any]]:
        """``(input column names, the first fitted step that reads them)``: what the training
        profile is taken from."""
        names = getattr(self, "feature_names_in_", None)
        yield (None if names is None else [str(n) for n in names]), self

    def _plan_spec(self) -> dict | None:
        """The spec of this fitted object as a one-part compiled plan (``fastprep._plan``),
        which an artifact stores for Rust readers; None when it has no native form."""
        width = getattr(self, "n_features_in_", None)
        if width is None:
            return None
        names = getattr(self, "feature_names_in_", None)
        names = positional_names(width) if names is None else [str(n) for n in names]
        try:
            spec = _plan.spec([(self, names)], self._n_features_out())
            if spec is not None and _backend._core is not None:
                _backend._core.Plan(spec)  # refused by the core: no plan to save
        except FastprepError:
            return None
        return spec

    def _n_features_out(self) -> int:
        """The number of output columns, known without making their names (a loaded state
        of a million columns costs nothing until it is used)."""
        return len(self.get_feature_names_out())

    def _reads_tables(self, frame=None, names=None) -> bool:
        """Whether a composition gives this step its columns as they are (strings stay in
        Arrow buffers) rather than a float matrix."""
        return False

    def _may_output_sparse(self) -> bool:
        return bool(getattr(self, "sparse_output", False))

    # -- loading --------------------------------------------------------------------------------

    def _loaded(self, profile: dict | None, drift) -> None:
        """What an artifact keeps besides the state: the training profile it was saved with,
        and its drift reference (``(entries, tensor)``, read on first use)."""
        if isinstance(profile, dict):
            self._loaded_profile = profile
        if drift is not None:
            raise SchemaError(f"{self._name} keeps no drift reference")


#: Attributes rebuilt on first use, which an attribute pickle leaves out.
_REBUILT_ON_USE = frozenset(("_drift_monitors", *NATIVE_ENTRIES))


def _rebuilt(cls, attributes: dict[str, Any]):
    """An object of ``cls`` with ``attributes`` (the other half of an attribute pickle)."""
    obj = cls.__new__(cls)
    obj.__dict__.update(attributes)
    return obj


def _sample_weights(sample_weight, rows: int, owner: str) -> np.ndarray | None:
    """``sample_weight`` as one finite, non-negative float64 per row (a number weighs every
    row alike), or None."""
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{owner}: sample_weight must be numbers") from None
    if w.ndim == 0:
        w = np.full(rows, float(w))
    if w.shape != (rows,):
        raise SchemaError(
            f"{owner}: sample_weight has shape {w.shape}, expected ({rows},): one per row"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise DataError(f"{owner}: sample_weight must be finite and >= 0")
    if rows and not (w > 0).any():
        raise DataError(f"{owner}: sample_weight is zero for every row: nothing to fit on")
    return np.ascontiguousarray(w)


def _loaded(data: bytes, output: dict[str, str]):
    """A fitted object from its artifact bytes, with its output container (pickle's half)."""
    obj = artifact.loads(data)
    obj._sklearn_output_config = dict(output)
    return obj


_modules = sys.modules

#: Set while a fastprep method runs: the steps it calls return what they compute, and only the
#: outermost call puts its output in the container asked for.
_INSIDE: ContextVar[bool] = ContextVar("fastprep_inside_transform", default=False)


def _in_output_container(method):
    """``method`` (a ``transform`` or ``fit_transform``) returning its output in the container
    ``set_output`` or scikit-learn's configuration asks for."""

    @functools.wraps(method)
    def wrapped(self, X, *args, **kwargs):
        if _INSIDE.get() or not (
            self._calls_steps or "_sklearn_output_config" in self.__dict__ or "sklearn" in _modules
        ):  # the common case, decided in a few lookups: NumPy out
            return method(self, X, *args, **kwargs)
        kind = self._output_container()
        if kind == "default" and not self._calls_steps:
            return method(self, X, *args, **kwargs)
        token = _INSIDE.set(True)
        try:
            out = method(self, X, *args, **kwargs)
        finally:
            _INSIDE.reset(token)
        if kind == "default" or not hasattr(self, "get_feature_names_out"):
            return out
        width = out.shape[1] if getattr(out, "ndim", 0) == 2 else 0
        return in_container(out, kind, self._output_names(width), pandas_index(X), self._name)

    wrapped._in_container = True
    return wrapped


def _comparable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}


class Transform(Fitted, abstract=True):
    """The numeric transforms. Subclasses define ``__init__`` (parameters only, stored
    unchanged, as in scikit-learn), ``_validate_params``, ``_finalize`` (fitted attributes from
    an accumulator) and ``_transform``; and ``_inverse_transform`` where there is an inverse.
    Their state is the fitted attributes ``_finalize`` returns, less the ``_derived`` ones
    (recomputed by ``_restored``)."""

    #: Whether fitting needs every value (order statistics) or only moments.
    _keep_values = False
    #: Names of the main fitted attributes (the tests compare them with scikit-learn's).
    _fitted_attributes: tuple[str, ...] = ()
    #: Fitted attributes computed from the others: not in the state, recomputed by _restored.
    _derived: tuple[str, ...] = ()
    #: Fitted float64 arrays of one value per input column (None where a parameter leaves
    #: one unused: ``_unused_state``), and of those, the ones transforms divide by.
    _per_column: tuple[str, ...] = ()
    _divisors: tuple[str, ...] = ()

    # -- fitting ------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "accumulator_")

    def _read(self, X, fitting: bool = False) -> tuple[list[str] | None, Any, bool]:
        if is_sparse(X):
            if not self._accepts_sparse():
                raise self._sparse_refused()
            names, x, by_name = None, as_csr(X, self._name), False
            self._check_sparse(x)
        else:
            names, x, by_name = read_matrix(X, self._name)
        if fitting and x.shape[0] == 0:
            raise DataError(f"{self._name}: cannot fit on 0 rows (input shape {x.shape})")
        if x.shape[1] == 0:
            raise no_columns(self._name, rows=x.shape[0])
        return names, x, by_name

    def _batch(self, X, first: bool, sample_weight=None) -> tuple[list[str] | None, FitAccumulator]:
        """Validate one training batch (after the first, of the fitted columns) and
        accumulate it, weighted by ``sample_weight`` if given; with its column names."""
        names, x, by_name = self._read(X, fitting=True)
        weights = _sample_weights(sample_weight, x.shape[0], self._name)
        if not first:
            at = self._fitted_positions(names, x.shape[1], by_name)
            x, names = (x if at is None else x[:, at]), self._names_or_none()
        if is_sparse(x) and weights is not None:
            batch = FitAccumulator(Moments.of_weighted_csr(*csr_parts(x), weights), None)
        elif is_sparse(x):
            values = ValueBuffer.of_batch(x) if self._keep_values else None
            batch = FitAccumulator(Moments.of_csr(*csr_parts(x)), values)
        elif weights is not None:
            batch = self._weighted_batch(x, weights)
        else:
            batch = FitAccumulator.of_batch(x, keep_values=self._keep_values)
        infinite = np.flatnonzero(np.isinf(batch.moments.min) | np.isinf(batch.moments.max))
        if infinite.size:
            raise DataError(
                f"{self._name}: {column_label(int(infinite[0]), names)} contains infinity; "
                "fitting accepts finite values and NaN (missing) only"
            )
        return names, batch

    def _weighted_batch(self, x: np.ndarray, w: np.ndarray) -> FitAccumulator:
        """The accumulator of a dense batch whose row ``i`` weighs ``w[i]``."""
        values = ValueBuffer.of_batch(x, w) if self._keep_values else None
        return FitAccumulator(Moments.of_weighted(x, w), values)

    def _commit(self, accumulator: FitAccumulator, names) -> Transform:
        # Compute everything first, assign after: a failure leaves the fitted state untouched.
        self._fitting_names = names  # what messages name the columns by until then
        try:
            fitted = self._finalize(accumulator)
        finally:
            del self._fitting_names
        for name, value in fitted.items():
            setattr(self, name, value)
        self._state_keys = tuple(fitted)
        self._set_record(accumulator.n_features, names)
        self.accumulator_ = accumulator
        return self

    def fit(self, X, y=None) -> Self:
        """Fit on ``X`` (2-D: rows x columns), discarding any previous fit."""
        return self._fit(X)

    def partial_fit(self, X, y=None) -> Self:
        """Add the rows of ``X`` to the fit (the first call starts one)."""
        return self._partial_fit(X)

    def _fit(self, X, sample_weight=None) -> Self:
        self._validate_params()
        return self._commit(*reversed(self._batch(X, first=True, sample_weight=sample_weight)))

    def _partial_fit(self, X, sample_weight=None) -> Self:
        self._validate_params()
        if not self.is_fitted:
            return self._fit(X, sample_weight)
        accumulator = self._accumulator()
        names, batch = self._batch(X, first=False, sample_weight=sample_weight)
        return self._commit(accumulator.merge(batch), names)

    def merge(self, other: Self) -> Self:
        """Add the fit of ``other`` (same class and parameters, fitted on other rows) to this
        one. ``other`` is not changed. Merging parts in a fixed order is deterministic."""
        if type(other) is not type(self):
            raise ParameterError(f"cannot merge a {type(other).__name__} into a {self._name}")
        if _comparable(other.get_params()) != _comparable(self.get_params()):
            raise ParameterError(f"{self._name}: cannot merge fits with different parameters")
        self._check_fitted()
        other._check_fitted()
        self._validate_params()
        if other._names_or_none() != self._names_or_none():
            raise SchemaError(f"{self._name}: cannot merge fits over different columns")
        return self._commit(self._accumulator().merge(other._accumulator()), self._names_or_none())

    def _finalize(self, accumulator: FitAccumulator) -> dict[str, Any]:
        return {}

    def _restored(self) -> None:
        """Recompute the ``_derived`` attributes of a rebuilt state."""

    def _accumulator(self) -> FitAccumulator:
        if self.accumulator_ is None:
            raise ParameterError(
                f"{self._name} was loaded from an artifact, which keeps the fitted state but "
                "not the training accumulator: fit a new one to go on fitting"
            )
        return self.accumulator_

    # -- the state ----------------------------------------------------------------------------

    def _fitted_values(self) -> dict[str, Any]:
        values = self._record_values()
        values.update({k: getattr(self, k) for k in self._state_keys if k not in self._derived})
        return values

    def _restore(self, values: dict[str, Any]) -> None:
        self._restore_record(values)
        self._set_fitted(values)
        self._state_keys = tuple(values) + tuple(self._derived)
        self.accumulator_ = None
        self._restored()

    def _unused_state(self) -> set[str]:
        """Fitted attributes that the parameters leave unused (None)."""
        return set()

    def _validate_state(self) -> None:
        """Per-column arrays hold one float64 per column, none infinite; divisors are
        finite and non-zero; the class checks the rest (``_check_state``)."""
        width, unused = self.n_features_in_, self._unused_state()
        for key in self._per_column:
            value = getattr(self, key, None)
            if value is None and key in unused:
                continue
            if not isinstance(value, np.ndarray) or value.dtype != np.float64:
                raise SchemaError(f"{key} must be a float64 array, got {type(value).__name__}")
            if value.shape != (width,):
                raise SchemaError(f"{key} must have one value per column ({width})")
            if np.isinf(value).any():
                raise SchemaError(f"{key} holds infinity")
            if key in self._divisors and (np.isnan(value).any() or (value == 0).any()):
                raise SchemaError(f"{key} holds NaN or zero")
        for key in self._state_keys:
            value = getattr(self, key)
            if key not in self._derived and isinstance(value, np.ndarray):
                if value.dtype.kind == "f" and np.isinf(value).any():
                    raise SchemaError(f"{key} holds infinity")
        self._check_state()

    def _check_state(self) -> None:
        """Raise for class-specific inconsistencies of a rebuilt state."""

    # -- transforming -------------------------------------------------------------------------

    def _input(self, X) -> np.ndarray:
        if self._stateless and not self.is_fitted:
            # As scikit-learn's stateless transforms: no fit needed, any number of columns.
            self._validate_params()
            return self._read(X)[1]
        self._check_fitted()
        names, x, by_name = self._read(X)
        at = self._fitted_positions(names, x.shape[1], by_name)
        return x if at is None else x[:, at]

    def transform(self, X, *, out: np.ndarray | None = None) -> np.ndarray:
        """Apply the fitted transform. Float32 in gives float32 out; other numbers float64.
        Sparse in (where accepted) gives sparse out, CSC for CSC and CSR otherwise.

        ``out``: a C-contiguous, writeable array of the output's shape and dtype (not
        overlapping the input) to write into and return, as NumPy's ``out=``; a loop or a
        service reuses its buffers."""
        x = self._input(X)
        if is_sparse(x):
            if out is not None:
                raise ParameterError(
                    f"{self._name}: out= takes a dense output, the input is sparse"
                )
            return self._transform_csr(x, X)
        if out is None:
            return self._transform(x)
        dtype = np.float32 if x.dtype == np.float32 else np.float64
        check_out(out, (x.shape[0], self._n_features_out()), dtype, x, self._name)
        if self._writes_into:
            return self._transform(x, out=out)
        np.copyto(out, self._transform(x))
        return out

    #: Whether ``_transform`` takes ``out=`` and writes into it (else it is copied there).
    _writes_into: ClassVar[bool] = False

    def _transform_csr(self, x, like):
        """The sparse output for a CSR input ``x`` (``like``, the input, gives its format)."""
        out = with_values(x, self._transform_sparse(x), like)
        if self._sparse_drops_zeros:
            out.eliminate_zeros()
        return out

    #: Whether a sparse output drops the stored zeros its transform makes.
    _sparse_drops_zeros: ClassVar[bool] = False

    def _check_sparse(self, x) -> None:
        """Refuse a sparse input (CSR) this transform cannot take (before any work)."""

    def _transform_sparse(self, x) -> np.ndarray:
        """The new stored values of a CSR input (``fastprep._input.as_csr``)."""
        raise self._sparse_refused()

    def _sparse_refused(self) -> FastprepError:
        return sparse_refused(self._name)

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names (``x0, x1, ...`` unless ``input_features`` names the inputs)."""
        return self._input_names(input_features)

    def _n_features_out(self) -> int:
        self._check_fitted()
        return int(self.n_features_in_)

    def _input_names(self, input_features=None) -> np.ndarray:
        self._check_fitted()
        if input_features is None:
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                names = positional_names(self.n_features_in_)
        else:
            names = list(input_features)
            if len(names) != self.n_features_in_:
                raise SchemaError(
                    f"{self._name}: input_features has {len(names)} names, but "
                    f"{self.n_features_in_} columns were fitted"
                )
        return np.asarray([str(n) for n in names], dtype=object)

    # -- the compiled plan --------------------------------------------------------------------

    def _plan_step(self) -> dict | None:
        """This transform's numeric step in a compiled plan (``fastprep._plan``): its kernel
        and the kernel's fields; None when it has none."""
        return None

    def _plan_part(self) -> dict | None:
        step = self._plan_step()
        return None if step is None else {"steps": [step]}


class InvertibleTransform(Transform, abstract=True):
    def inverse_transform(self, X) -> np.ndarray:
        """Map transformed data back to the input space."""
        self._check_fitted()
        x = as_float_matrix(X, owner=self._name)
        expected = self._n_features_out()
        if x.shape[1] != expected:
            raise SchemaError(
                f"{self._name}: X has {x.shape[1]} columns, but the transform outputs {expected}"
            )
        return self._inverse_transform(x)

    def _inverse_transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError
