"""Hypothesis strategies that produce the inputs kernels get wrong: NaN, ±inf, subnormals,
-0.0, huge and tiny magnitudes, empty and one-row arrays, constant columns, float32, Fortran
order, strided and read-only views.

Requires ``hypothesis`` (a test dependency, not a runtime one).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["fit_and_transform_matrices", "float_matrices", "special_values"]


def _huge(dtype) -> float:
    """The largest magnitude generated: squares of float64 values must stay finite so that
    variances are representable (scikit-learn has the same limit), and float32 values keep
    headroom below their maximum."""
    return float(dtype(min(float(np.finfo(dtype).max) / 1e8, 1e150)))


def special_values(dtype, *, allow_nan: bool = True, allow_infinity: bool = True) -> list[float]:
    """Values at the edges of ``dtype``: zeros of both signs, subnormals, huge and tiny."""
    info = np.finfo(dtype)
    values = [0.0, -0.0, 1.0, -1.0, float(info.smallest_subnormal), -float(info.tiny)]
    # Huge but with room to add a few: sums of many of them stay finite.
    huge = _huge(dtype)
    values += [huge, -huge, float(dtype(float(info.tiny) * 3))]
    if allow_nan:
        values.append(float("nan"))
    if allow_infinity:
        values += [float("inf"), float("-inf")]
    return values


def _elements(dtype, allow_nan: bool, allow_infinity: bool) -> st.SearchStrategy[float]:
    width = 32 if dtype == np.float32 else 64
    bound = _huge(dtype)
    ordinary = st.floats(
        min_value=-bound, max_value=bound, allow_subnormal=True, width=width
    ) | st.floats(min_value=-1e3, max_value=1e3, width=width)
    special = st.sampled_from(special_values(dtype, allow_nan=allow_nan, allow_infinity=False))
    infinite = st.sampled_from([float("inf"), float("-inf")])
    choices = [ordinary, ordinary, special]
    if allow_infinity:
        choices.append(infinite)
    return st.one_of(*choices)


@st.composite
def float_matrices(
    draw,
    *,
    dtypes=(np.float32, np.float64),
    min_rows: int = 0,
    max_rows: int = 24,
    min_cols: int = 1,
    max_cols: int = 5,
    allow_nan: bool = True,
    allow_infinity: bool = True,
    layouts: bool = True,
) -> np.ndarray:
    """2-D float arrays with the awkward values above, some constant columns, and (when
    ``layouts``) C order, Fortran order, strided and read-only views."""
    dtype = draw(st.sampled_from(dtypes))
    rows = draw(st.integers(min_rows, max_rows))
    cols = draw(st.integers(min_cols, max_cols))
    x = draw(hnp.arrays(dtype, (rows, cols), elements=_elements(dtype, allow_nan, allow_infinity)))
    if rows:
        for j in range(cols):
            if draw(st.booleans()) and draw(st.booleans()):  # about one column in four
                x[:, j] = x[0, j]
    if not layouts:
        return x
    layout = draw(st.sampled_from(["C", "F", "strided", "readonly"]))
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":
        wide = np.zeros((rows, 2 * cols), dtype=dtype)
        wide[:, ::2] = x
        return wide[:, ::2]
    if layout == "readonly":
        x.setflags(write=False)
    return x


@st.composite
def fit_and_transform_matrices(draw, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``(train, live)``: a training matrix with at least one row and no infinity (fits refuse
    infinity) and a matrix of the same width to transform, which may be empty or hold
    infinities. ``kwargs`` go to ``float_matrices`` for both."""
    train = draw(float_matrices(min_rows=1, allow_infinity=False, **kwargs))
    cols = train.shape[1]
    live = draw(float_matrices(min_cols=cols, max_cols=cols, **kwargs))
    return train, live
