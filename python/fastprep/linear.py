"""Linear models, run (not trained) by fastprep: ``LinearClassifier`` and ``LinearRegressor``.

fastprep does not fit models. A fitted scikit-learn ``LogisticRegression``,
``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet``, ``SGDClassifier``,
``SGDRegressor``, ``LinearSVC`` or ``LinearSVR`` becomes one of these through
``fastprep.from_sklearn``, alone or at the end of a pipeline: its coefficients are its state
(data only, saved in the artifact), and its scores, probabilities and predictions are
scikit-learn's (probabilities within 1e-12 relative: the dot products are summed in another
order than BLAS sums them).

``LinearClassifier(link=...)`` says how scores become probabilities, as the scikit-learn
model did: ``"logistic"`` (``LogisticRegression`` of two classes, ``SGDClassifier`` with
``loss="log_loss"``: the logistic function, normalised over classes one-vs-rest),
``"softmax"`` (``LogisticRegression`` of more classes), ``"modified_huber"``
(``SGDClassifier(loss="modified_huber")``), or None (no probabilities: ``LinearSVC``, other
SGD losses), where ``predict_proba`` does not exist, as in scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastprep._backend import kernels
from fastprep._base import Fitted
from fastprep._input import is_sparse, read_matrix
from fastprep.exceptions import ParameterError, SchemaError

__all__ = ["LinearClassifier", "LinearRegressor"]

LINKS = (None, "logistic", "softmax", "modified_huber")


class _Available:
    """A method that exists only when ``check(obj)`` holds (scikit-learn's ``available_if``):
    ``hasattr`` tells a caller, as for scikit-learn's models."""

    def __init__(self, check, method) -> None:
        self.check, self.method = check, method
        self.__doc__ = method.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if not self.check(obj):
            raise AttributeError(f"{type(obj).__name__} has no {self.name}: {self._why(obj)}")
        return self.method.__get__(obj, owner)

    @staticmethod
    def _why(obj) -> str:
        return f"its link is {getattr(obj, 'link', None)!r} (scikit-learn's model had none)"


def _has_proba(obj) -> bool:
    return getattr(obj, "link", None) is not None


class _LinearModel(Fitted, abstract=True):
    """The state of both: the input record, ``coef_`` and ``intercept_`` (scikit-learn's
    shapes: ``coef_`` 1-D for one regression target)."""

    _fitted_keys: tuple[str, ...] = ("coef_", "intercept_")

    def fit(self, X, y=None, **params):
        raise ParameterError(
            f"{self._name} is not trained by fastprep: fit a scikit-learn model and convert "
            "it with fastprep.from_sklearn"
        )

    def _fitted_values(self) -> dict[str, Any]:
        return {**self._record_values(), **{k: getattr(self, k) for k in self._fitted_keys}}

    def _restore(self, values: dict[str, Any]) -> None:
        self._restore_record(values)
        if set(values) != set(self._fitted_keys):
            raise SchemaError(f"{self._name}: expected the fitted state {list(self._fitted_keys)}")
        self._set_fitted(values)

    def _validate_state(self) -> None:
        coef, intercept = self._weights()
        if coef.shape[1] != self.n_features_in_:
            raise SchemaError(
                f"{self._name}: coef_ has {coef.shape[1]} columns for {self.n_features_in_} "
                "features"
            )
        if intercept.shape != (coef.shape[0],):
            raise SchemaError(f"{self._name}: one intercept per row of coef_")
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise SchemaError(f"{self._name}: coefficients must be finite")

    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``coef_`` as ``outputs × features`` and ``intercept_`` as one per output, float64,
        C-ordered (kept once per state)."""

        def build():
            coef = np.asarray(self.coef_)
            if coef.dtype.kind not in "fiu" or coef.ndim not in (1, 2):
                raise SchemaError(f"{self._name}: coef_ must be a 1-D or 2-D array of numbers")
            coef = np.ascontiguousarray(np.atleast_2d(coef), dtype=np.float64)
            intercept = np.ascontiguousarray(np.atleast_1d(self.intercept_), dtype=np.float64)
            if intercept.ndim != 1:
                raise SchemaError(f"{self._name}: intercept_ must be a number or 1-D")
            if intercept.shape == (1,) and coef.shape[0] > 1:
                intercept = np.repeat(intercept, coef.shape[0])
            return coef, intercept

        return self._cached("weights", build)

    def _features(self, X) -> np.ndarray:
        """The input's columns in fit order, as floats."""
        self._check_fitted()
        if is_sparse(X):  # a sparse composition's output: the model reads every cell
            X = X.toarray()
        names, x, by_name = read_matrix(X, self._name)
        at = self._fitted_positions(names, x.shape[1], by_name)
        return x if at is None else np.ascontiguousarray(x[:, at])

    def _scores(self, X) -> np.ndarray:
        """``rows × outputs`` scores, float64."""
        coef, intercept = self._weights()
        return kernels().linear_decision(self._features(X), coef, intercept)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags = None
        return tags


class LinearClassifier(_LinearModel):
    """A fitted linear classifier: scores ``X @ coef_.T + intercept_`` (one column for two
    classes, as scikit-learn's), ``classes_`` of any label type, and probabilities by its
    ``link`` (see the module docstring)."""

    _fitted_keys = ("coef_", "intercept_", "classes_")

    def __init__(self, link: str | None = "logistic"):
        self.link = link

    def _validate_params(self) -> None:
        if self.link not in LINKS:
            raise ParameterError(
                f"{self._name}: link must be None, 'logistic', 'softmax' or 'modified_huber', "
                f"got {self.link!r}"
            )

    def _validate_state(self) -> None:
        super()._validate_state()
        classes = np.asarray(self.classes_)
        if classes.ndim != 1 or len(set(classes.tolist())) != len(classes) or len(classes) < 2:
            raise SchemaError(f"{self._name}: classes_ must be two or more distinct labels")
        rows = self._weights()[0].shape[0]
        if rows != (1 if len(classes) == 2 else len(classes)):
            raise SchemaError(
                f"{self._name}: {rows} rows of coef_ for {len(classes)} classes (one row for "
                "two classes, else one per class)"
            )
        if self.link == "softmax" and rows == 1:
            raise SchemaError(f"{self._name}: a softmax of one score: use link='logistic'")

    def decision_function(self, X) -> np.ndarray:
        """The scores: 1-D for two classes (> 0 means ``classes_[1]``), else one column per
        class."""
        scores = self._scores(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """The label of each row: ``classes_[1]`` where the score is > 0 (two classes), else
        the class of the largest score (the first of equal ones)."""
        return self._predicted(self._scores(X))

    def _predicted(self, scores: np.ndarray) -> np.ndarray:
        """The labels of rows of scores."""
        if scores.shape[1] == 1:
            index = (scores[:, 0] > 0).astype(np.int64)
        else:
            index = np.argmax(scores, axis=1)
        return np.asarray(self.classes_)[index]

    def _proba(self, X, log: bool) -> np.ndarray:
        self._validate_params()
        return kernels().linear_proba(self._scores(X), self.link, log)

    def _predict_proba(self, X) -> np.ndarray:
        """The probability of each class (columns in ``classes_`` order)."""
        return self._proba(X, log=False)

    def _predict_log_proba(self, X) -> np.ndarray:
        """The natural logarithm of ``predict_proba``."""
        return self._proba(X, log=True)

    predict_proba = _Available(_has_proba, _predict_proba)
    predict_log_proba = _Available(_has_proba, _predict_log_proba)

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags


class LinearRegressor(_LinearModel):
    """A fitted linear regressor: ``X @ coef_.T + intercept_`` (1-D for one target, as
    scikit-learn's ``coef_`` of one dimension gives)."""

    def __init__(self):
        pass

    def predict(self, X) -> np.ndarray:
        """The predictions: 1-D for one target, else one column per target."""
        return self._predicted(self._scores(X))

    def _predicted(self, scores: np.ndarray) -> np.ndarray:
        """The predictions of rows of scores."""
        return scores[:, 0] if np.ndim(self.coef_) == 1 else scores

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags
