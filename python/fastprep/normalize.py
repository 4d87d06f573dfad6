"""Normalizer: scale each row to unit norm."""

from __future__ import annotations

from fastprep._backend import kernels
from fastprep._base import Transform
from fastprep._checks import check_choice
from fastprep._input import csr_parts

__all__ = ["Normalizer"]


class Normalizer(Transform):
    """Divide each row by its norm: ``"l2"`` (default), ``"l1"`` or ``"max"`` (max absolute
    value).

    Stateless: ``fit`` only records the number of columns, and ``transform`` works without it.
    A row whose norm is 0 is returned unchanged, as in scikit-learn. A row holding NaN becomes
    all NaN (scikit-learn refuses NaN; fastprep keeps missing values visible rather than
    failing a request).

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.Normalizer().fit_transform(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """

    _stateless = True

    def __init__(self, norm: str = "l2"):
        self.norm = norm

    def _validate_params(self) -> None:
        check_choice(self._name, "norm", self.norm, ("l1", "l2", "max"))

    def _plan_step(self) -> dict:
        self._validate_params()
        return {"step": "normalize", "norm": self.norm}

    def _transform(self, x):
        self._validate_params()
        return kernels().normalize(x, self.norm)

    def _accepts_sparse(self) -> bool:
        return True

    def _transform_sparse(self, x):
        self._validate_params()
        return kernels().normalize_csr(*csr_parts(x), self.norm)
