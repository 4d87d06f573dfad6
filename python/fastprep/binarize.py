"""Binarizer: threshold numeric values to 0/1."""

from __future__ import annotations

import numpy as np

from fastprep._backend import kernels
from fastprep._base import Transform
from fastprep._checks import check_real
from fastprep.exceptions import ParameterError

__all__ = ["Binarizer"]


class Binarizer(Transform):
    """1 where ``x > threshold``, else 0.

    Stateless: ``fit`` only records the number of columns, and ``transform`` works without it.
    NaN stays NaN rather than becoming 0 (scikit-learn refuses NaN here).

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.Binarizer(threshold=1.5).fit_transform(np.array([[1.0, 2.0]]))
    array([[0., 1.]])
    """

    _stateless = True

    def __init__(self, *, threshold: float = 0.0):
        self.threshold = threshold

    def _validate_params(self) -> None:
        check_real(self._name, "threshold", self.threshold, finite=False)

    def _plan_step(self) -> dict:
        self._validate_params()
        return {"step": "binarize", "threshold": float(self.threshold)}

    def _transform(self, x):
        self._validate_params()
        return kernels().binarize(x, float(self.threshold))

    # Sparse: the stored values binarized, the zeros this makes dropped (scikit-learn's).
    _sparse_drops_zeros = True

    def _accepts_sparse(self) -> bool:
        return True

    def _transform_sparse(self, x):
        self._validate_params()
        if self.threshold < 0:
            raise ParameterError(
                f"{self._name}: cannot binarize sparse data with threshold < 0 (its implicit "
                f"zeros would become 1), got {self.threshold}"
            )
        values = np.ascontiguousarray(x.data[:, np.newaxis])
        return kernels().binarize(values, float(self.threshold))[:, 0]
