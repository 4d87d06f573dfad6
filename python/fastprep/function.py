"""FunctionTransformer: a function of every value, as scikit-learn's.

A NumPy function from a closed list (``np.log1p``, ``np.expm1``, ``np.log``, ``np.exp``,
``np.sqrt``, ``np.square``, ``np.abs``, ``np.sign``, ``np.reciprocal``, and ``np.clip`` with its
bounds in ``kw_args``) runs in Rust, in the compiled plan, and is saved by its name. Any other
callable runs in Python, step by step, as scikit-learn runs it; an object holding one cannot
be saved (artifacts hold data, never code), and the error names the function.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable

import numpy as np

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._checks import check_bool
from fastprep._input import as_float_matrix, is_sparse
from fastprep._output import check_out
from fastprep._state import State
from fastprep.exceptions import ArtifactError, ParameterError, SchemaError

__all__ = ["FunctionTransformer"]

#: The functions that run natively, by the name an artifact saves them under.
NAMED: dict[str, Callable] = {
    "log1p": np.log1p,
    "expm1": np.expm1,
    "log": np.log,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "square": np.square,
    "abs": np.abs,
    "sign": np.sign,
    "reciprocal": np.reciprocal,
    "clip": np.clip,
}
_NAMES = {id(f): name for name, f in NAMED.items()}
#: NumPy's names for clip's bounds: ``a_min``/``a_max``, or ``min``/``max`` (NumPy 2.1).
_BOUNDS = {"a_min": 0, "min": 0, "a_max": 1, "max": 1}

_Named = tuple[str, float, float]


def _name_of(func) -> str | None:
    if func is None:
        return "identity"
    name = _NAMES.get(id(func))
    return name if name is not None and NAMED[name] is func else None


def _describe(func) -> str:
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    return f"{module}.{name}" if module else str(name)


def _named(owner: str, key: str, func, kw_args) -> _Named | None:
    """``(name, lo, hi)`` of a function that runs natively (``lo``, ``hi``: clip's bounds, NaN
    for none); None for one that runs in Python."""
    name = _name_of(func)
    kw = dict(kw_args or {})
    if name is None or (name != "clip" and kw):
        return None
    if name != "clip":
        return name, np.nan, np.nan
    bounds = [np.nan, np.nan]
    given = [None, None]
    for k, v in kw.items():
        side = _BOUNDS.get(k)
        if side is None:
            return None  # out=, or another NumPy keyword: as NumPy runs it
        if given[side] is not None:
            raise ParameterError(f"{owner}: {key} gives clip two bounds: {given[side]} and {k}")
        given[side] = k
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or np.isnan(v):
            raise ParameterError(
                f"{owner}: {key} clip bound {k} must be a number or None, got {v!r}"
            )
        bounds[side] = float(v)
    return "clip", bounds[0], bounds[1]


class _WithNamesOut:
    """scikit-learn's ``available_if`` for ``get_feature_names_out``: an object whose
    ``feature_names_out`` is None has no such method (``hasattr`` is False)."""

    def __init__(self, method):
        self.method = method
        self.__doc__ = method.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if obj.feature_names_out is None:
            raise AttributeError(
                f"{type(obj).__name__} has no get_feature_names_out: feature_names_out is None"
            )
        return self.method.__get__(obj, owner)


class FunctionTransformer(InvertibleTransform):
    """``func`` of every value (identity when None); ``inverse_func`` backwards.

    Parameters
    ----------
    func, inverse_func : callable or None
        A NumPy function from the named list runs in Rust and is saved by name; ``np.clip``
        takes its bounds from ``kw_args`` (``a_min``/``a_max`` or ``min``/``max``). Any other
        callable runs in Python and makes the object unsavable.
    validate : bool, default False
        As scikit-learn's: whether a Python callable gets the input as a checked float array
        (True) or as it was given (False). A named function always reads a float matrix.
    accept_sparse : bool, default False
        Whether a Python callable with ``validate=True`` takes sparse input. A named function
        takes sparse input when it maps 0 to 0 (``log1p``, ``sqrt``, ``abs``, ...).
    check_inverse : bool, default True
        At fit, warn when ``inverse_func(func(X))`` does not give ``X`` back on a sample of rows.
    feature_names_out : None, "one-to-one" or callable
        As scikit-learn's: ``get_feature_names_out`` exists only when it is set.
    kw_args, inv_kw_args : dict or None
        Keyword arguments of ``func`` and ``inverse_func``.

    Float32 input gives float32 output, computed in float64 and rounded once; NaN stays NaN,
    and a value outside the function's domain gives NaN or ±inf silently, as NumPy's.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.FunctionTransformer(np.log1p, np.expm1).fit_transform(np.array([[0.0, np.e - 1]]))
    array([[0., 1.]])
    """

    _stateless = True

    def __init__(
        self,
        func: Callable | None = None,
        inverse_func: Callable | None = None,
        *,
        validate: bool = False,
        accept_sparse: bool = False,
        check_inverse: bool = True,
        feature_names_out: str | Callable | None = None,
        kw_args: dict | None = None,
        inv_kw_args: dict | None = None,
    ):
        self.func = func
        self.inverse_func = inverse_func
        self.validate = validate
        self.accept_sparse = accept_sparse
        self.check_inverse = check_inverse
        self.feature_names_out = feature_names_out
        self.kw_args = kw_args
        self.inv_kw_args = inv_kw_args

    def _validate_params(self) -> None:
        for key in ("validate", "accept_sparse", "check_inverse"):
            check_bool(self._name, key, getattr(self, key))
        for key in ("func", "inverse_func"):
            f = getattr(self, key)
            if f is not None and not callable(f):
                raise ParameterError(f"{self._name}: {key} must be callable or None, got {f!r}")
        for key in ("kw_args", "inv_kw_args"):
            kw = getattr(self, key)
            if kw is not None and not isinstance(kw, dict):
                raise ParameterError(f"{self._name}: {key} must be a dict or None, got {kw!r}")
        names = self.feature_names_out
        if not (names is None or names == "one-to-one" or callable(names)):
            raise ParameterError(
                f"{self._name}: feature_names_out must be None, 'one-to-one' or a callable, "
                f"got {names!r}"
            )
        self._forward()
        self._backward()

    def _forward(self) -> _Named | None:
        return _named(self._name, "kw_args", self.func, self.kw_args)

    def _backward(self) -> _Named | None:
        return _named(self._name, "inv_kw_args", self.inverse_func, self.inv_kw_args)

    # -- fitting: the columns, and scikit-learn's check of the inverse ---------------------------

    def fit(self, X, y=None):
        """Record the columns (and, with ``check_inverse``, test the inverse on a sample)."""
        if self._forward() is None and not self.validate:
            self._validate_params()
            self._fit_any(X)
        else:
            self._fit(X)
        if self.check_inverse and self.func is not None and self.inverse_func is not None:
            self._check_inverse(X)
        return self

    def partial_fit(self, X, y=None):
        if self._forward() is None and not self.validate:
            return self.fit(X)
        return self._partial_fit(X)

    def _fit_any(self, X) -> None:
        """The record of an input a Python callable takes as it is (any table, any dtype)."""
        names = None
        if hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        elif hasattr(X, "column_names"):
            names = [str(c) for c in X.column_names]
        shape = getattr(X, "shape", None)
        width = len(names) if names is not None else (shape[1] if shape and len(shape) == 2 else 1)
        self._state_keys = ()
        self._set_record(int(width), names)
        self.accumulator_ = None

    def _check_inverse(self, X) -> None:
        x = X if is_sparse(X) else as_float_matrix(X, owner=self._name)
        sample = x[:: max(1, x.shape[0] // 100)]
        back = self.inverse_transform(self.transform(sample))
        if is_sparse(back):
            back = back.toarray()
        if is_sparse(sample):
            sample = sample.toarray()
        if not np.allclose(np.asarray(sample), np.asarray(back, dtype=np.float64), equal_nan=True):
            warnings.warn(
                "The provided functions are not strictly inverse of each other. If you are "
                "sure you want to proceed regardless, set 'check_inverse=False'.",
                UserWarning,
                stacklevel=3,
            )

    # -- transforming ------------------------------------------------------------------------

    def transform(self, X, *, out: np.ndarray | None = None):
        """``func`` of ``X``: natively for a named function, else as scikit-learn calls it."""
        if self._forward() is None and not self.validate:
            self._validate_params()
            return self._into(out, self._call(self.func, self.kw_args, X))
        return super().transform(X, out=out)

    def _into(self, out, y):
        if out is None:
            return y
        y = np.asarray(y)
        check_out(out, y.shape, y.dtype, y, self._name)
        np.copyto(out, y)
        return out

    @staticmethod
    def _call(func, kw_args, x):
        return x if func is None else func(x, **(kw_args or {}))

    def _transform(self, x: np.ndarray) -> np.ndarray:
        named = self._forward()
        if named is None:
            return self._call(self.func, self.kw_args, x)
        return kernels().apply_function(x, *named)

    def inverse_transform(self, X):
        """``inverse_func`` of ``X`` (no fit needed, as scikit-learn's)."""
        self._validate_params()
        named = self._backward()
        if named is None:
            x = as_float_matrix(X, owner=self._name) if self.validate else X
            return self._call(self.inverse_func, self.inv_kw_args, x)
        if is_sparse(X):
            raise ParameterError(f"{self._name}: inverse_transform takes dense input")
        return kernels().apply_function(as_float_matrix(X, owner=self._name), *named)

    def _accepts_sparse(self) -> bool:
        return self._forward() is not None or self.accept_sparse

    def _check_sparse(self, x) -> None:
        named = self._forward()
        if named is None:
            return
        zero = kernels().apply_function(np.zeros((1, 1)), *named)[0, 0]
        if zero != 0:
            raise ParameterError(
                f"{self._name}: {named[0]} maps 0 to {zero}, so its output of sparse input "
                "would be dense: pass dense input"
            )

    def _transform_csr(self, x, like):
        if self._forward() is None:
            return self._call(self.func, self.kw_args, like)
        return super()._transform_csr(x, like)

    def _transform_sparse(self, x) -> np.ndarray:
        values = np.ascontiguousarray(x.data[:, np.newaxis])
        return kernels().apply_function(values, *self._forward())[:, 0]

    _sparse_drops_zeros = True

    # -- names -------------------------------------------------------------------------------

    def _names_out(self, input_features=None) -> np.ndarray:
        """The input names (``"one-to-one"``), or what the ``feature_names_out`` callable
        returns for them."""
        names = self._input_names(input_features)
        if self.feature_names_out == "one-to-one":
            return names
        return np.asarray(self.feature_names_out(self, names), dtype=object)

    get_feature_names_out = _WithNamesOut(_names_out)  # type: ignore[assignment]

    # -- the plan and the state ----------------------------------------------------------------

    def _plan_step(self) -> dict | None:
        self._validate_params()
        named = self._forward()
        if named is None:
            return None
        name, lo, hi = named
        return {
            "step": "function",
            "function": name,
            "lo": None if np.isnan(lo) else lo,
            "hi": None if np.isnan(hi) else hi,
        }

    def _state(self) -> State:
        state = super()._state()
        params = dict(state.params)
        for key, kw in (("func", "kw_args"), ("inverse_func", "inv_kw_args")):
            f = params[key]
            if _named(self._name, kw, f, params[kw]) is None:
                raise ArtifactError(
                    f"{self._name}: {key}={_describe(f)} is a Python function, and an artifact "
                    f"holds no code: use one of the named NumPy functions ({', '.join(NAMED)})"
                    " or None"
                )
            params[key] = None if f is None else _name_of(f)
        if callable(params["feature_names_out"]):
            raise ArtifactError(
                f"{self._name}: feature_names_out={_describe(params['feature_names_out'])} is a "
                "Python function, and an artifact holds no code: use 'one-to-one' or None"
            )
        return State(state.kind, params, state.values, state.parts)

    @classmethod
    def _from_state(cls, state: State, where: str = ""):
        """A state holds functions by name (or, built in memory, as the NumPy functions
        themselves): never a Python function."""
        params = dict(state.params)
        for key, kw in (("func", "kw_args"), ("inverse_func", "inv_kw_args")):
            f = params.get(key)
            if isinstance(f, str):
                if f not in NAMED:
                    raise SchemaError(
                        f"{cls.__name__}: {key} {f!r} is not one of the named functions "
                        f"({', '.join(NAMED)})"
                    )
                f = NAMED[f]
            if _named(cls.__name__, kw, f, params.get(kw)) is None:
                raise SchemaError(
                    f"{cls.__name__}: {key}={_describe(f)} is not one of the named NumPy "
                    f"functions ({', '.join(NAMED)}) with the arguments they take"
                )
            params[key] = f
        if callable(params.get("feature_names_out")):
            raise SchemaError(f"{cls.__name__}: feature_names_out is a Python function")
        return super()._from_state(State(state.kind, params, state.values, state.parts), where)
