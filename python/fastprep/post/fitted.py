"""Fitted postprocessors: what turns calibrated scores into the answer a service returns.

Each has scikit-learn's protocol (``fit`` / ``transform`` / ``get_params``), saves with
``save`` like every fastprep object, and chains in a ``PostPipeline``, which saves in the same
artifact as the preprocessing when both go in a ``fastprep.Bundle`` (one file per service). Their
transforms run on fastprep's kernels (softmax, sigmoid, the scalers' inverse) or are one NumPy
comparison; fitting happens once, offline, in NumPy.

- ``LabelDecoder``: class index to label and back; ``decode`` gives the label of each row's
  largest score.
- ``Threshold``: decisions from scores, ``score >= threshold`` per class (binary: one column or
  1-D; multilabel: one threshold per column); fixed, or tuned on validation scores for a target
  precision or recall, or for the best F1.
- ``Calibrator``: Platt scaling (``"sigmoid"``) and isotonic regression (``"isotonic"``) of
  binary scores, temperature scaling (``"temperature"``) of multiclass logits.
- ``TargetInverse``: regression outputs back through a fitted scaler's inverse.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from fastprep._base import Fitted
from fastprep._state import Part, State, build
from fastprep.exceptions import DataError, ParameterError, SchemaError, UnknownCategoryError
from fastprep.post.functions import _rows, argmax, sigmoid, softmax, top_k

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Calibrator", "LabelDecoder", "PostPipeline", "TargetInverse", "Threshold"]


class _Postprocessor(Fitted, abstract=True):
    """A postprocessor whose state is the fitted attributes ``_fitted_keys`` names."""

    _fitted_keys: tuple[str, ...] = ()

    @property
    def is_fitted(self) -> bool:
        return all(hasattr(self, k) for k in self._fitted_keys) and bool(self._fitted_keys)

    def _fitted_values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._fitted_keys}

    def _restore(self, values: dict[str, Any]) -> None:
        if set(values) != set(self._fitted_keys):  # the instance's: they may depend on a param
            raise SchemaError(f"{self._name}: expected the fitted state {list(self._fitted_keys)}")
        self._set_fitted(values)

    _requires_y: bool = False

    def __sklearn_tags__(self):
        """A postprocessor reads a model's scores (1-D, or one column per class), not a 2-D
        array of features: scikit-learn's transformer checks do not apply to it."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.target_tags.required = self._requires_y
        tags.transformer_tags.preserves_dtype = []
        return tags

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)


def _labels_1d(y, owner: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise SchemaError(f"{owner}: labels must be 1-D, got shape {a.shape}")
    return a


class LabelDecoder(_Postprocessor):
    """Class index to label and back, on the output side: ``transform`` of class indices
    (integers) gives their labels, and of scores (floats, rows x classes) the label of each
    row's largest score; ``inverse_transform`` of labels gives their indices. ``classes_`` is
    ``classes`` as given (the model's output order), or the sorted distinct labels ``y`` seen
    at fit (scikit-learn's LabelEncoder order).

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> dec = fp.LabelDecoder(classes=["cat", "dog", "bird"]).fit()
    >>> dec.transform(np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])).tolist()
    ['dog', 'cat']
    >>> dec.transform(np.array([2, 0])).tolist(), dec.inverse_transform(["bird"]).tolist()
    (['bird', 'cat'], [2])
    """

    _fitted_keys = ("classes_",)

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, X=None, y=None) -> Self:
        """Take ``classes`` as given, or learn them from the labels ``y`` (in a pipeline,
        ``X`` is the scores and ``y`` the true labels; alone, ``fit(labels)`` works too)."""
        if self.classes is not None:
            classes = np.asarray(self.classes)
            if classes.ndim != 1 or len(set(classes.tolist())) != len(classes):
                raise ParameterError(f"{self._name}: classes must be distinct labels")
        else:
            labels = y if y is not None else X
            if labels is None:
                raise ParameterError(f"{self._name}: fit needs labels y, or classes= given")
            classes = np.unique(_labels_1d(labels, self._name))
        self.classes_ = classes
        return self

    def _validate_state(self) -> None:
        c = np.asarray(self.classes_)
        if c.ndim != 1 or len(set(c.tolist())) != len(c):
            raise SchemaError(f"{self._name}: classes_ must be distinct labels")

    def transform(self, X) -> np.ndarray:
        """Labels of class indices (integers), or of each row's largest score (floats)."""
        self._check_fitted()
        a = np.asarray(X)
        if a.dtype.kind in "iu":
            n = len(self.classes_)
            if a.size and (a.min() < 0 or a.max() >= n):
                raise DataError(f"{self._name}: class index outside 0..{n - 1}")
            return self.classes_[a]
        return self.decode(a)

    def inverse_transform(self, labels) -> np.ndarray:
        """Class indices (int64) of labels; an unknown label raises UnknownCategoryError."""
        self._check_fitted()
        values = _labels_1d(labels, self._name)
        index = {v: i for i, v in enumerate(self.classes_.tolist())}
        try:
            return np.asarray([index[v] for v in values.tolist()], dtype=np.int64)
        except KeyError as exc:
            raise UnknownCategoryError(
                f"{self._name}: unknown label {exc.args[0]!r} (not among classes_)"
            ) from None

    def decode(self, scores):
        """The label of each row's largest score (NaN counts as largest; ties: lowest)."""
        self._check_fitted()
        return argmax(scores, labels=self._checked_width(scores))

    def top_k(self, scores, k: int):
        """``(values, labels)`` of each row's ``k`` largest scores."""
        self._check_fitted()
        return top_k(scores, k, labels=self._checked_width(scores))

    def _checked_width(self, scores) -> np.ndarray:
        width = np.shape(scores)[-1] if np.ndim(scores) else 0
        if width != len(self.classes_):
            raise SchemaError(
                f"{self._name}: scores have {width} columns for {len(self.classes_)} classes"
            )
        return self.classes_


def _scores_2d(scores, owner: str) -> tuple[np.ndarray, bool]:
    m, one = _rows(scores, owner)
    # 1-D scores are one binary score per row, not one row of scores.
    if one:
        return m.reshape(-1, 1), True
    return m, False


def _tuned_threshold(s: np.ndarray, y: np.ndarray, metric: str, target) -> float:
    """The threshold on scores ``s`` (positives ``y``) that best meets ``metric``: the lowest
    one reaching ``precision >= target`` (most recall), the highest one keeping
    ``recall >= target`` (most precision), or the one of best F1 (ties: the highest)."""
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order].astype(np.float64)
    # Candidate thresholds: each distinct score; predicting s >= t keeps all ties together.
    last = np.r_[s[1:] != s[:-1], True]
    tp = np.cumsum(y)[last]
    predicted = np.arange(1, s.size + 1)[last]
    thresholds = s[last]
    positives = y.sum()
    precision = tp / predicted
    recall = tp / positives if positives else np.zeros_like(tp)
    if metric == "f1":
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(tp > 0, 2 * precision * recall / (precision + recall), 0.0)
        best = np.flatnonzero(f1 == f1.max())[0]
        return float(thresholds[best])
    if metric == "precision":
        ok = np.flatnonzero(precision >= target)
        if not ok.size:
            raise DataError(f"Threshold: no threshold reaches precision {target}")
        return float(thresholds[ok[-1]])
    ok = np.flatnonzero(recall >= target)
    if not ok.size:
        raise DataError(f"Threshold: no threshold reaches recall {target}")
    return float(thresholds[ok[0]])


class Threshold(_Postprocessor):
    """Decisions from scores: 1 where ``score >= threshold_``, else 0 (NaN gives 0), one
    threshold per column (binary: 1-D scores or one column; multilabel: one per label).

    ``threshold``: a number or one per column, used as is (``metric=None``). With ``metric``
    (``"precision"`` or ``"recall"`` with ``target``, or ``"f1"``), ``fit(scores, y)`` tunes each
    column's threshold on validation scores: the lowest reaching the target precision, the
    highest keeping the target recall, or the best F1.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> t = fp.Threshold(metric="precision", target=1.0)
    >>> t.fit(np.array([0.9, 0.8, 0.4, 0.3]), np.array([1, 1, 0, 1])).threshold_.tolist()
    [0.8]
    """

    _fitted_keys = ("threshold_",)

    def __init__(self, threshold=0.5, *, metric=None, target=None):
        self.threshold = threshold
        self.metric = metric
        self.target = target

    def _validate_params(self) -> None:
        if self.metric not in (None, "precision", "recall", "f1"):
            raise ParameterError(
                f"{self._name}: metric must be None, 'precision', 'recall' or 'f1', got "
                f"{self.metric!r}"
            )
        if self.metric in ("precision", "recall"):
            t = self.target
            if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 < t <= 1:
                raise ParameterError(f"{self._name}: target must be in (0, 1], got {t!r}")
        t = np.asarray(self.threshold, dtype=np.float64)
        if t.ndim > 1 or np.isnan(t).any():
            raise ParameterError(f"{self._name}: threshold must be a number or one per column")

    def fit(self, scores, y=None) -> Self:
        """Fixed thresholds (``metric=None``), or thresholds tuned on ``scores`` and the true
        0/1 labels ``y`` (same shape)."""
        self._validate_params()
        s, _ = _scores_2d(scores, self._name)
        width = s.shape[1]
        if self.metric is None:
            t = np.broadcast_to(np.asarray(self.threshold, dtype=np.float64), (width,)).copy()
        else:
            if y is None:
                raise ParameterError(f"{self._name}: metric={self.metric!r} needs labels y")
            labels = np.asarray(y).reshape(s.shape[0], -1)
            if labels.shape != s.shape or not np.isin(labels, (0, 1)).all():
                raise SchemaError(f"{self._name}: y must be 0/1 labels shaped like the scores")
            if np.isnan(s).any():
                raise DataError(f"{self._name}: validation scores hold NaN")
            t = np.array(
                [
                    _tuned_threshold(s[:, j], labels[:, j], self.metric, self.target)
                    for j in range(width)
                ]
            )
        self.threshold_ = t
        return self

    def _validate_state(self) -> None:
        t = np.asarray(self.threshold_)
        if t.ndim != 1 or np.isnan(t).any():
            raise SchemaError(f"{self._name}: threshold_ must be numbers, one per column")

    def transform(self, scores) -> np.ndarray:
        """0/1 decisions (int8), shaped like ``scores``."""
        self._check_fitted()
        s, one = _scores_2d(scores, self._name)
        if s.shape[1] != self.threshold_.size:
            raise SchemaError(
                f"{self._name}: scores have {s.shape[1]} columns, thresholds {self.threshold_.size}"
            )
        out = (s >= self.threshold_).astype(np.int8)
        return out[:, 0] if one else out


def _platt(f: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt's sigmoid ``P(y=1|f) = 1 / (1 + exp(a f + b))``, fitted by Newton's method with a
    backtracking line search on the smoothed targets of Platt (1999) (Lin, Lin and Weng's
    stable form), as scikit-learn fits it."""
    prior1 = float(y.sum())
    prior0 = y.size - prior1
    t = np.where(y > 0, (prior1 + 1) / (prior1 + 2), 1 / (prior0 + 2))
    a, b = 0.0, math.log((prior0 + 1) / (prior1 + 1))

    def loss(a, b):
        z = a * f + b
        # sum of t * log(1 + exp(z)) + (1 - t) * log(1 + exp(-z)), overflow-free
        return float(np.sum(np.logaddexp(0, z) - (1 - t) * z))

    value = loss(a, b)
    for _ in range(200):
        p = sigmoid(-(a * f + b))  # P(y=1)
        d = t - p  # d loss / d z = (1 - t) - (1 - p) ... sign folded below
        g_a, g_b = float(np.sum(d * f)), float(np.sum(d))
        w = p * (1 - p)
        h_aa, h_ab, h_bb = (
            float(np.sum(w * f * f)) + 1e-12,
            float(np.sum(w * f)),
            float(np.sum(w)) + 1e-12,
        )
        det = h_aa * h_bb - h_ab * h_ab
        if (abs(g_a) < 1e-10 and abs(g_b) < 1e-10) or det <= 0:
            break
        da = -(h_bb * g_a - h_ab * g_b) / det
        db = -(h_aa * g_b - h_ab * g_a) / det
        step = 1.0
        while step > 1e-10:
            new = loss(a + step * da, b + step * db)
            if new < value + 1e-4 * step * (g_a * da + g_b * db):
                break
            step /= 2
        if step <= 1e-10:
            break
        a, b, value = a + step * da, b + step * db, new
    return a, b


def _isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Increasing isotonic regression (pool adjacent violators) of ``y`` on ``x``: the fitted
    step function as (thresholds, values), ties in ``x`` first averaged (scikit-learn's
    IsotonicRegression with ``out_of_bounds="clip"``)."""
    order = np.lexsort((y, x))
    x, y = x[order], y[order].astype(np.float64)
    ux, start, counts = np.unique(x, return_index=True, return_counts=True)
    sums = np.add.reduceat(y, start)
    # blocks of (sum, weight), merged while they decrease
    block_sum, block_w, block_n = [], [], []
    for s, w in zip(sums.tolist(), counts.tolist(), strict=True):
        block_sum.append(s)
        block_w.append(w)
        block_n.append(1)
        while len(block_sum) > 1 and (block_sum[-2] / block_w[-2] >= block_sum[-1] / block_w[-1]):
            s2, w2, n2 = block_sum.pop(), block_w.pop(), block_n.pop()
            block_sum[-1] += s2
            block_w[-1] += w2
            block_n[-1] += n2
    values = np.repeat([s / w for s, w in zip(block_sum, block_w, strict=True)], block_n)
    return ux.astype(np.float64), values


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T > 0 minimising the negative log-likelihood of softmax(logits / T):
    a golden-section search on log T over [1e-3, 1e3] (the likelihood is unimodal in T)."""
    rows = np.arange(y.size)

    def nll(log_t: float) -> float:
        z = logits / math.exp(log_t)
        m = z.max(axis=1)
        lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
        return float(np.mean(lse - z[rows, y]))

    lo, hi = math.log(1e-3), math.log(1e3)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fc, fd = nll(c), nll(d)
    while hi - lo > 1e-9:
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - ratio * (hi - lo)
            fc = nll(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + ratio * (hi - lo)
            fd = nll(d)
    return math.exp((lo + hi) / 2)


class Calibrator(_Postprocessor):
    """Calibrated probabilities from scores, fitted on validation scores and labels.

    - ``"sigmoid"`` (Platt): binary scores (1-D) to ``P(y=1)`` = ``1 / (1 + exp(a s + b))``;
      ``a_``, ``b_`` as scikit-learn's CalibratedClassifierCV(method="sigmoid") fits them.
    - ``"isotonic"``: binary scores to the increasing step function of isotonic regression,
      linear between its points and clipped outside (``X_thresholds_``, ``y_thresholds_``),
      as scikit-learn's IsotonicRegression(out_of_bounds="clip").
    - ``"temperature"``: multiclass logits (rows x classes) and class indices to
      ``softmax(logits / temperature_)``, the temperature minimising the log-loss (Guo et al.
      2017); it keeps every row's ranking.

    Outputs are monotone in the scores (non-decreasing; sigmoid strictly when ``a_ < 0``).
    """

    _requires_y = True

    def __init__(self, method: str = "sigmoid"):
        self.method = method

    @property
    def _fitted_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return {
            "sigmoid": ("a_", "b_"),
            "isotonic": ("X_thresholds_", "y_thresholds_"),
            "temperature": ("temperature_",),
        }.get(self.method, ())

    def _validate_params(self) -> None:
        if self.method not in ("sigmoid", "isotonic", "temperature"):
            raise ParameterError(
                f"{self._name}: method must be 'sigmoid', 'isotonic' or 'temperature', got "
                f"{self.method!r}"
            )

    def _validate_state(self) -> None:
        if self.method == "sigmoid" and not all(math.isfinite(v) for v in (self.a_, self.b_)):
            raise SchemaError(f"{self._name}: a_ and b_ must be finite")
        if self.method == "isotonic":
            x, y = np.asarray(self.X_thresholds_), np.asarray(self.y_thresholds_)
            if x.ndim != 1 or x.shape != y.shape or not x.size:
                raise SchemaError(f"{self._name}: malformed isotonic thresholds")
            if np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0) or np.isnan(y).any():
                raise SchemaError(f"{self._name}: isotonic thresholds are not increasing")
        if self.method == "temperature" and not (
            math.isfinite(self.temperature_) and self.temperature_ > 0
        ):
            raise SchemaError(f"{self._name}: temperature_ must be positive")

    def fit(self, scores, y) -> Self:
        """Fit on validation ``scores`` (binary: 1-D; temperature: rows x classes) and true
        labels ``y`` (binary: 0/1; temperature: class indices)."""
        self._validate_params()
        labels = _labels_1d(y, self._name)
        if self.method == "temperature":
            logits, _ = _rows(scores, self._name)
            logits = logits.astype(np.float64)
            if labels.shape != (logits.shape[0],) or labels.dtype.kind not in "iu":
                raise SchemaError(f"{self._name}: y must be one class index per row")
            if labels.size == 0 or labels.min() < 0 or labels.max() >= logits.shape[1]:
                raise DataError(f"{self._name}: class indices outside 0..{logits.shape[1] - 1}")
            if not np.isfinite(logits).all():
                raise DataError(f"{self._name}: logits hold NaN or infinity")
            self.temperature_ = _temperature(logits, labels)
            return self
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim == 2 and s.shape[1] == 1:
            s = s[:, 0]
        if s.ndim != 1 or s.shape != labels.shape:
            raise SchemaError(f"{self._name}: binary scores must be 1-D, one per label")
        if not np.isin(labels, (0, 1)).all() or labels.size == 0:
            raise DataError(f"{self._name}: y must be 0/1 labels")
        if not np.isfinite(s).all():
            raise DataError(f"{self._name}: scores hold NaN or infinity")
        if self.method == "sigmoid":
            self.a_, self.b_ = _platt(s, labels.astype(np.float64))
        else:
            self.X_thresholds_, self.y_thresholds_ = _isotonic(s, labels)
        return self

    def transform(self, scores) -> np.ndarray:
        """Calibrated probabilities: ``P(y=1)`` per binary score, or per-row class
        probabilities for temperature scaling. NaN scores give NaN."""
        self._check_fitted()
        if self.method == "temperature":
            m, one = _rows(scores, self._name)
            p = softmax(m / m.dtype.type(self.temperature_))
            return p[0] if one else p
        s = np.asarray(scores)
        if s.dtype.kind != "f":
            s = s.astype(np.float64)
        if self.method == "sigmoid":
            return sigmoid(-(self.a_ * s + self.b_)).astype(s.dtype, copy=False)
        out = np.interp(s, self.X_thresholds_, self.y_thresholds_)
        return np.where(np.isnan(s), np.nan, out).astype(s.dtype, copy=False)

    predict_proba = transform


class TargetInverse(Fitted):
    """Regression outputs back to the target's units through a fitted scaler: ``fit(y)`` fits
    ``transformer`` on the training targets (a 1-D target is one column), ``transform`` of
    model outputs is its ``inverse_transform``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> inv = fp.TargetInverse(fp.StandardScaler()).fit(np.array([10.0, 20.0, 30.0]))
    >>> inv.transform(np.array([0.0, 1.0])).round(6).tolist()
    [20.0, 28.164966]
    """

    _parts_param = "transformer"

    def __init__(self, transformer):
        self.transformer = transformer

    @property
    def is_fitted(self) -> bool:
        return bool(getattr(self.transformer, "is_fitted", False))

    def _named_parts(self) -> list[tuple[str, Any]]:
        return [("transformer", self.transformer)]

    def _state_parts(self) -> tuple[Part, ...]:
        return (Part("transformer", self.transformer._state()),)

    @classmethod
    def _from_state(cls, state: State, where: str = ""):
        parts = state.parts or ()
        if state.params or state.values or len(parts) != 1 or parts[0].name != "transformer":
            raise SchemaError("malformed TargetInverse")
        part = parts[0]
        if isinstance(part.state, str) or part.columns is not None:
            raise SchemaError("malformed TargetInverse")
        transformer = build(part.state, f"{where}transformer/")
        if not getattr(transformer, "is_fitted", False):
            raise SchemaError("malformed TargetInverse")
        return cls(transformer)

    def fit(self, y, _=None) -> Self:
        """Fit the scaler on the training targets ``y``."""
        if not hasattr(self.transformer, "inverse_transform"):
            raise ParameterError(f"{self._name}: the transformer has no inverse_transform")
        self.transformer.fit(_column(y))
        return self

    def transform(self, predictions) -> np.ndarray:
        """Model outputs in the target's units (1-D in, 1-D out)."""
        self._check_fitted()
        p = np.asarray(predictions)
        out = self.transformer.inverse_transform(_column(p))
        return out[:, 0] if p.ndim == 1 else out


def _column(y) -> np.ndarray:
    a = np.asarray(y)
    return a.reshape(-1, 1) if a.ndim == 1 else a


class PostPipeline(Fitted):
    """Postprocessors applied in order, fitted in order (each on the output of the ones
    before, with the same labels): e.g. calibrate, then threshold, or calibrate with
    temperature, then decode labels. Saves as one artifact, alone or in a ``Bundle``."""

    _parts_param = "steps"

    def __init__(self, steps):
        self.steps = steps

    @property
    def is_fitted(self) -> bool:
        return all(getattr(s, "is_fitted", False) for _, s in self.steps)

    def _named_parts(self) -> list[tuple[str, Any]]:
        return list(self.steps)

    def _replace_part(self, name: str, value: Any) -> None:
        self.steps = [(n, value if n == name else s) for n, s in self.steps]

    def _state_parts(self) -> tuple[Part, ...]:
        return tuple(Part(name, step._state()) for name, step in self.steps)

    @classmethod
    def _from_state(cls, state: State, where: str = ""):
        parts = state.parts
        if state.params or state.values or parts is None:
            raise SchemaError("malformed PostPipeline")
        if any(isinstance(p.state, str) or p.columns is not None for p in parts):
            raise SchemaError("malformed PostPipeline")
        return cls([(p.name, build(p.state, f"{where}{p.name}/")) for p in parts])

    def _check_steps(self) -> None:
        if not isinstance(self.steps, list) or not all(
            isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], str) for t in self.steps
        ):
            raise ParameterError(f"{self._name}: steps must be a list of (name, step) pairs")

    def fit(self, scores, y=None) -> Self:
        self._check_steps()
        data = scores
        for i, (_, step) in enumerate(self.steps):
            step.fit(data, y)
            if i < len(self.steps) - 1:
                data = step.transform(data)
        return self

    def transform(self, scores):
        self._check_fitted()
        data = scores
        for _, step in self.steps:
            data = step.transform(data)
        return data

    @property
    def named_steps(self) -> dict[str, Any]:
        return dict(self.steps)
