"""Stubs of the compiled module ``fastprep._core`` (rust/fastprep-py). Every function has a twin
of the same name and signature in ``fastprep.reference``. Matrices are 2-D, C-contiguous float32
or float64 arrays; results keep the input's float type."""

from typing import TypeVar

import numpy as np
import numpy.typing as npt

_F = TypeVar("_F", np.float32, np.float64)
_Matrix = np.ndarray[tuple[int, int], np.dtype[_F]]
_Vector = npt.NDArray[np.float64]

__version__: str
DEBUG_BUILD: bool

def column_stats(
    x: _Matrix[_F],
) -> tuple[
    npt.NDArray[np.uint64],
    npt.NDArray[np.uint64],
    _Vector,
    _Vector,
    _Vector,
    _Vector,
]: ...
def sub_div(x: _Matrix[_F], sub: _Vector, div: _Vector) -> _Matrix[_F]: ...
def mul_add(
    x: _Matrix[_F], mul: _Vector, add: _Vector, clip: tuple[float, float] | None = None
) -> _Matrix[_F]: ...
def normalize(x: _Matrix[_F], norm: str) -> _Matrix[_F]: ...
def binarize(x: _Matrix[_F], threshold: float) -> _Matrix[_F]: ...
def impute(
    x: _Matrix[_F], columns: list[int], fill: _Vector, indicator: list[int]
) -> _Matrix[_F]: ...
def digitize(x: _Matrix[_F], edges: _Vector, offsets: list[int], onehot: bool) -> _Matrix[_F]: ...
def column_quantiles(
    x: _Matrix[_F], qs: list[float], method: str = "linear"
) -> npt.NDArray[np.float64]: ...
def column_quantiles_and_medians(
    x: _Matrix[_F], qs: list[float], method: str = "linear"
) -> tuple[npt.NDArray[np.float64], _Vector]: ...
def column_medians(x: _Matrix[_F]) -> _Vector: ...
def column_modes(x: _Matrix[_F]) -> _Vector: ...
def quantile_transform(
    x: _Matrix[_F],
    quantiles: npt.NDArray[np.float64],
    references: _Vector,
    normal: bool,
    inverse: bool,
) -> _Matrix[_F]: ...
def power_transform(
    x: _Matrix[_F],
    lambdas: _Vector,
    method: str,
    sub: _Vector,
    div: _Vector,
    inverse: bool,
) -> _Matrix[_F]: ...
def power_log_likelihood(values: _Vector, lmbda: float, method: str) -> float: ...
def fit_power_lambda(
    values: _Vector, method: str, lower: float, upper: float, xatol: float
) -> float: ...
def ndtri(p: _Vector) -> _Vector: ...
def ndtr(x: _Vector) -> _Vector: ...
def _panic_guard_probe() -> None: ...
