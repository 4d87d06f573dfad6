"""The base class of every fastprep transform: scikit-learn's parameter protocol plus the
mergeable fit protocol (``fit`` = one ``partial_fit`` from scratch; ``merge`` combines fits)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from fastprep import _backend, _plan
from fastprep._input import as_float_matrix, column_label
from fastprep.accumulators import FitAccumulator
from fastprep.exceptions import (
    DataError,
    FastprepError,
    NotFittedError,
    ParameterError,
    SchemaError,
)


class Params:
    """scikit-learn's parameter protocol: parameters are the ``__init__`` keyword arguments,
    stored unchanged; ``get_params`` / ``set_params`` / ``repr`` read them."""

    @classmethod
    def _param_names(cls) -> list[str]:
        names = cls.__dict__.get("_param_names_cache")
        if names is None:  # once per class: inspect costs more than a one-row transform
            signature = inspect.signature(cls.__init__)
            names = [p.name for p in signature.parameters.values() if p.name != "self"]
            cls._param_names_cache = names
        return names

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {name!r}; valid: {', '.join(valid)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        # Same type and same repr as the default: comparing by repr stays safe for arrays.
        shown = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if not (type(v) is type(defaults.get(k)) and repr(v) == repr(defaults.get(k)))
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _plan_spec(self) -> dict | None:
        """The spec of this fitted object as a one-part compiled plan (``fastprep._plan``),
        which an artifact stores for Rust readers; None when it has no native form."""
        width = getattr(self, "n_features_in_", None)
        if width is None:
            return None
        names = getattr(self, "feature_names_in_", None)
        names = [f"x{j}" for j in range(width)] if names is None else [str(n) for n in names]
        try:
            spec = _plan.spec([(self, names)], len(self.get_feature_names_out()))
            if spec is not None and _backend._core is not None:
                _backend._core.Plan(spec)  # refused by the core: no plan to save
        except FastprepError:
            return None
        return spec

    def save(self, path, metadata: dict | None = None):
        """Write the fitted state to ``path`` as an artifact (see ``fastprep.artifact``);
        ``metadata`` (JSON: model name, version, training run, ...) is stored with it."""
        from fastprep.artifact import save

        return save(self, path, metadata)


class Transform(Params):
    """Subclasses define ``__init__`` (parameters only, stored unchanged, as in scikit-learn),
    ``_validate_params``, ``_finalize`` (fitted attributes from an accumulator) and
    ``_transform``; and ``_inverse_transform`` where the transform has an inverse."""

    #: Whether fitting needs every value (order statistics) or only moments.
    _keep_values = False
    #: Names of the main fitted attributes (the tests compare them with scikit-learn's).
    _fitted_attributes: tuple[str, ...] = ()
    #: Fitted attributes computed from the others: not saved, recomputed by ``_restored``.
    _derived_state: tuple[str, ...] = ()

    def _validate_params(self) -> None:
        """Raise ParameterError for a parameter outside its domain."""

    # -- fitting ------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "accumulator_")

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical fitted state: equal states, equal fingerprints."""
        from fastprep.state import fingerprint

        return fingerprint(self)

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"{self._name} is not fitted yet: call fit or partial_fit before using it"
            )

    def _label(self, j: int) -> str:
        return column_label(j, getattr(self, "feature_names_in_", None))

    def _batch(self, X, width: int | None) -> FitAccumulator:
        """Validate one training batch (of ``width`` columns, if given) and accumulate it."""
        x = as_float_matrix(X, owner=self._name)
        if x.shape[0] == 0:
            raise DataError(f"{self._name}: cannot fit on 0 rows (input shape {x.shape})")
        if width is not None and x.shape[1] != width:
            raise SchemaError(
                f"{self._name}: batch has {x.shape[1]} columns, but the previous batches had "
                f"{width}"
            )
        batch = FitAccumulator.of_batch(x, keep_values=self._keep_values)
        infinite = np.flatnonzero(np.isinf(batch.moments.min) | np.isinf(batch.moments.max))
        if infinite.size:
            raise DataError(
                f"{self._name}: {self._label(int(infinite[0]))} contains infinity; fitting "
                "accepts finite values and NaN (missing) only"
            )
        return batch

    def _commit(self, accumulator: FitAccumulator) -> Transform:
        # Compute everything first, assign after: a failure leaves the fitted state untouched.
        fitted = self._finalize(accumulator)
        for name, value in fitted.items():
            setattr(self, name, value)
        self._state_keys = tuple(fitted)  # the fitted state, for fastprep.state
        self.n_features_in_ = accumulator.n_features
        self.accumulator_ = accumulator
        return self

    def fit(self, X, y=None) -> Transform:
        """Fit on ``X`` (2-D: rows x columns), discarding any previous fit."""
        self._validate_params()
        return self._commit(self._batch(X, None))

    def partial_fit(self, X, y=None) -> Transform:
        """Add the rows of ``X`` to the fit (the first call starts one)."""
        self._validate_params()
        if not self.is_fitted:
            return self._commit(self._batch(X, None))
        accumulator = self._accumulator()
        batch = self._batch(X, self.n_features_in_)
        return self._commit(accumulator.merge(batch))

    def merge(self, other: Transform) -> Transform:
        """Add the fit of ``other`` (same class and parameters, fitted on other rows) to this
        one. ``other`` is not changed. Merging parts in a fixed order is deterministic."""
        if type(other) is not type(self):
            raise ParameterError(f"cannot merge a {type(other).__name__} into a {self._name}")
        if _comparable(other.get_params()) != _comparable(self.get_params()):
            raise ParameterError(f"{self._name}: cannot merge fits with different parameters")
        self._check_fitted()
        other._check_fitted()
        self._validate_params()
        return self._commit(self._accumulator().merge(other._accumulator()))

    def _finalize(self, accumulator: FitAccumulator) -> dict[str, Any]:
        return {}

    def _plan_step(self) -> dict | None:
        """This transform's numeric step in a compiled plan (``fastprep._plan``): its kernel
        and the kernel's fields; None when it has none."""
        return None

    def _plan_part(self) -> dict | None:
        step = self._plan_step()
        return None if step is None else {"steps": [step]}

    def _restored(self) -> None:
        """Recompute ``_derived_state`` after loading from an artifact."""

    def _accumulator(self) -> FitAccumulator:
        if self.accumulator_ is None:
            raise ParameterError(
                f"{self._name} was loaded from an artifact, which keeps the fitted state but "
                "not the training accumulator: fit a new one to go on fitting"
            )
        return self.accumulator_

    # -- transforming -------------------------------------------------------------------------

    def _input(self, X) -> np.ndarray:
        self._check_fitted()
        x = as_float_matrix(X, owner=self._name)
        if x.shape[1] != self.n_features_in_:
            raise SchemaError(
                f"{self._name}: X has {x.shape[1]} columns, but {self._name} was fitted on "
                f"{self.n_features_in_}"
            )
        return x

    def transform(self, X) -> np.ndarray:
        """Apply the fitted transform. Float32 in gives float32 out; other numbers float64."""
        return self._transform(self._input(X))

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names (``x0, x1, ...`` unless ``input_features`` names the inputs)."""
        return self._input_names(input_features)

    def _input_names(self, input_features=None) -> np.ndarray:
        self._check_fitted()
        if input_features is None:
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                names = [f"x{i}" for i in range(self.n_features_in_)]
        else:
            names = list(input_features)
            if len(names) != self.n_features_in_:
                raise SchemaError(
                    f"{self._name}: input_features has {len(names)} names, but "
                    f"{self.n_features_in_} columns were fitted"
                )
        return np.asarray([str(n) for n in names], dtype=object)


class InvertibleTransform(Transform):
    def inverse_transform(self, X) -> np.ndarray:
        """Map transformed data back to the input space."""
        self._check_fitted()
        x = as_float_matrix(X, owner=self._name)
        expected = len(self.get_feature_names_out())
        if x.shape[1] != expected:
            raise SchemaError(
                f"{self._name}: X has {x.shape[1]} columns, but the transform outputs {expected}"
            )
        return self._inverse_transform(x)

    def _inverse_transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _comparable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
