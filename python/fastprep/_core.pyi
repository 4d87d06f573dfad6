"""Stubs of the compiled module ``fastprep._core`` (rust/fastprep-py). Every function has a twin
of the same name and signature in ``fastprep.reference``. Matrices are 2-D, C-contiguous float32
or float64 arrays; results keep the input's float type."""

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

_F = TypeVar("_F", np.float32, np.float64)
_Matrix = np.ndarray[tuple[int, int], np.dtype[_F]]
_Vector = npt.NDArray[np.float64]
_Int64s = npt.NDArray[np.int64]

# (count, nan_count, Σx, Σx², min, max), the sums exact: ints in units of 2^-3264.
_Stats = tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint64], list[int], list[int], _Vector, _Vector
]
# (Σw, nan_count, Σwx, Σwx², min, max), likewise.
_WeightedStats = tuple[list[int], npt.NDArray[np.uint64], list[int], list[int], _Vector, _Vector]

__version__: str
DEBUG_BUILD: bool

def column_stats(
    x: _Matrix[_F],
) -> _Stats: ...
def copy_matrix(x: _Matrix[_F]) -> _Matrix[_F]: ...

# A CSR matrix as its stored values and (indptr, indices), both int32 or both int64, and its
# number of columns; the sparse kernels return new stored values of the values' float type.
_Values = np.ndarray[tuple[int], np.dtype[_F]]
_Index = (
    tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]
    | tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
)

def csr_column_stats(data: _Values[_F], index: _Index, cols: int) -> _Stats: ...
def weighted_column_stats(x: _Matrix[_F], w: _Vector) -> _WeightedStats: ...
def weighted_csr_column_stats(
    data: _Values[_F], index: _Index, cols: int, w: _Vector
) -> _WeightedStats: ...
def fill_csr(data: _Values[_F], index: _Index, cols: int, fill: _Vector) -> _Values[_F]: ...
def sub_div_csr(
    data: _Values[_F], index: _Index, cols: int, sub: _Vector, div: _Vector
) -> _Values[_F]: ...
def normalize_csr(data: _Values[_F], index: _Index, cols: int, norm: str) -> _Values[_F]: ...
def sub_div(
    x: _Matrix[_F], sub: _Vector, div: _Vector, out: _Matrix[_F] | None = None
) -> _Matrix[_F]: ...
def mul_add(
    x: _Matrix[_F],
    mul: _Vector,
    add: _Vector,
    clip: tuple[float, float] | None = None,
    out: _Matrix[_F] | None = None,
) -> _Matrix[_F]: ...
def normalize(x: _Matrix[_F], norm: str) -> _Matrix[_F]: ...
def binarize(x: _Matrix[_F], threshold: float) -> _Matrix[_F]: ...
def apply_function(x: _Matrix[_F], name: str, lo: float, hi: float) -> _Matrix[_F]: ...
def spline(
    x: _Matrix[_F],
    knots: npt.NDArray[np.float64],
    degree: int,
    extrapolation: str,
    include_bias: bool,
    zeros_for_missing: bool,
    bounds: _Vector,
) -> _Matrix[_F]: ...
def polynomial(
    x: _Matrix[_F], parents: _Int64s, factors: _Int64s, keep: _Int64s
) -> _Matrix[_F]: ...
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
def csr_column_quantiles_and_medians(
    data: _Values[_F], index: _Index, cols: int, qs: list[float], method: str, implicit_zeros: bool
) -> tuple[npt.NDArray[np.float64], _Vector]: ...
def csr_column_modes(data: _Values[_F], index: _Index, cols: int) -> _Vector: ...
def weighted_column_quantiles(
    x: _Matrix[_F], w: _Vector, percents: list[float], average: bool
) -> npt.NDArray[np.float64]: ...
def quantile_transform(
    x: _Matrix[_F],
    quantiles: npt.NDArray[np.float64],
    references: _Vector,
    normal: bool,
    inverse: bool,
) -> _Matrix[_F]: ...
def quantile_transform_csr(
    data: _Values[_F],
    index: _Index,
    cols: int,
    quantiles: npt.NDArray[np.float64],
    references: _Vector,
    normal: bool,
    inverse: bool,
) -> _Values[_F]: ...
def power_transform(
    x: _Matrix[_F],
    lambdas: _Vector,
    method: str,
    sub: _Vector,
    div: _Vector,
    inverse: bool,
) -> _Matrix[_F]: ...
def power_log_likelihood(values: _Vector, lmbda: float, method: str) -> float: ...
def fit_power_lambdas(
    x: _Matrix[_F], method: str, lowers: list[float], uppers: list[float], xatol: float
) -> tuple[npt.NDArray[np.uint64], _Vector, _Vector, _Vector]: ...
def ndtri(p: _Vector) -> _Vector: ...
def ndtr(x: _Vector) -> _Vector: ...
def _panic_guard_probe() -> None: ...
def set_max_threads(n: int) -> None: ...
def max_threads() -> int: ...

# Categorical columns cross as lists of chunk tuples (see fastprep._columns).
_Chunk = tuple[Any, ...]
_Column = list[_Chunk]
_Counts = tuple[str, npt.NDArray[Any], npt.NDArray[np.int64] | None, npt.NDArray[np.int64], int]
_Codes = npt.NDArray[np.uint32]
_Csr = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]]

class CategoryIndex:
    def __init__(
        self, kind: str, values: npt.NDArray[Any], offsets: npt.NDArray[np.int64] | None = None
    ) -> None: ...
    def __len__(self) -> int: ...

def count_categories(column: _Column) -> _Counts: ...
def merge_category_counts(a: _Counts, b: _Counts) -> _Counts: ...
def lookup_codes(
    indexes: list[CategoryIndex], columns: list[_Column], rows: int
) -> tuple[_Codes, list[int], list[int]]: ...
def encode_gather(
    indexes: list[CategoryIndex],
    columns: list[_Column],
    tables: list[npt.NDArray[np.float64]],
    rows: int,
    float32: bool,
) -> tuple[npt.NDArray[Any], list[int], list[int]]: ...
def encode_onehot_dense(
    indexes: list[CategoryIndex],
    columns: list[_Column],
    tables: list[npt.NDArray[np.int32]],
    offsets: list[int],
    width: int,
    rows: int,
    float32: bool,
) -> tuple[npt.NDArray[Any], list[int], list[int]]: ...
def encode_onehot_csr(
    indexes: list[CategoryIndex],
    columns: list[_Column],
    tables: list[npt.NDArray[np.int32]],
    offsets: list[int],
    width: int,
    rows: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], list[int], list[int]]: ...
def hash_columns(
    columns: list[_Column], names: list[bytes] | None, n_features: int, alternate_sign: bool
) -> _Csr: ...
def hash_features(
    features: _Chunk,
    values: _Vector,
    indptr: npt.NDArray[np.int64],
    n_features: int,
    alternate_sign: bool,
) -> _Csr: ...

class Plan:
    """A compiled plan, built from its spec (``fastprep._plan``; checked by the Rust core)."""

    def __init__(self, spec: dict[str, Any]) -> None: ...
    @property
    def width(self) -> int: ...
    def run(self, inputs: list[Any], rows: int, float32: bool) -> npt.NDArray[Any] | None: ...
    def run_tallied(
        self, inputs: list[Any], rows: int, float32: bool
    ) -> tuple[npt.NDArray[Any], list[npt.NDArray[np.uint64] | None]] | None: ...
    def run_csr(
        self, inputs: list[Any], rows: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]] | None: ...
    def run_row(self, row: dict[str, Any], float32: bool) -> npt.NDArray[Any] | None: ...

def read_artifact(
    buffer: npt.NDArray[np.uint8],
) -> tuple[str, int, list[tuple[str, str, list[int], int, int]]]: ...
def linear_decision(
    x: npt.NDArray[_F], coef: npt.NDArray[np.float64], intercept: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]: ...
def linear_proba(
    scores: npt.NDArray[np.float64], link: str, log: bool
) -> npt.NDArray[np.float64]: ...
def softmax(x: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def log_softmax(x: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def sigmoid(x: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def argmax(x: npt.NDArray[Any]) -> npt.NDArray[np.int64]: ...
def top_k(x: npt.NDArray[_F], k: int) -> tuple[npt.NDArray[_F], npt.NDArray[np.int64]]: ...
def nms(
    boxes: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    iou_threshold: float,
    classes: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]: ...
def bin_counts(
    values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], int]: ...
def code_counts(
    indexes: list[CategoryIndex], columns: list[Any]
) -> list[npt.NDArray[np.int64]]: ...
