"""Special functions of the normal distribution (twin of rust/fastprep-core/src/special.rs).

``ndtri`` is Wichura's AS241 (PPND16), the algorithm of ``statistics.NormalDist.inv_cdf``,
evaluated with NumPy; ``ndtr`` is ``0.5 * erfc(-x / sqrt(2))`` with the C library's ``erfc``.
"""

from __future__ import annotations

import math

import numpy as np

from fastprep.reference._ieee import ieee

_A = (
    2509.0809287301227,
    33430.57558358813,
    67265.7709270087,
    45921.95393154987,
    13731.69376550946,
    1971.5909503065513,
    133.14166789178438,
    3.3871328727963665,
)
_B = (
    5226.495278852854,
    28729.085735721943,
    39307.89580009271,
    21213.794301586597,
    5394.196021424751,
    687.1870074920579,
    42.31333070160091,
    1.0,
)
_C = (
    0.0007745450142783414,
    0.022723844989269184,
    0.2417807251774506,
    1.2704582524523684,
    3.6478483247632045,
    5.769497221460691,
    4.630337846156546,
    1.4234371107496835,
)
_D = (
    1.0507500716444169e-09,
    0.0005475938084995345,
    0.015198666563616457,
    0.14810397642748008,
    0.6897673349851,
    1.6763848301838038,
    2.053191626637759,
    1.0,
)
_E = (
    2.0103343992922881e-07,
    2.7115555687434876e-05,
    0.0012426609473880784,
    0.026532189526576124,
    0.29656057182850487,
    1.7848265399172913,
    5.463784911164114,
    6.657904643501103,
)
_F = (
    2.0442631033899397e-15,
    1.421511758316446e-07,
    1.8463183175100548e-05,
    0.0007868691311456133,
    0.014875361290850615,
    0.1369298809227358,
    0.599832206555888,
    1.0,
)


def _horner(r: np.ndarray, coefficients) -> np.ndarray:
    acc = np.zeros_like(r)
    for c in coefficients:
        acc = acc * r + c
    return acc


@ieee
def ndtri(p) -> np.ndarray:
    """Inverse of the standard normal CDF, elementwise: -inf at 0, +inf at 1, NaN outside
    [0, 1] and for NaN."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    central = np.abs(q) <= 0.425
    r = 0.180625 - q * q
    out = _horner(r, _A) * q / _horner(r, _B)
    tail = np.sqrt(-np.log(np.where(q <= 0.0, p, 1.0 - p)))
    near = tail - 1.6
    far = tail - 5.0
    x = np.where(
        tail <= 5.0, _horner(near, _C) / _horner(near, _D), _horner(far, _E) / _horner(far, _F)
    )
    out = np.where(central, out, np.where(q < 0.0, -x, x))
    out = np.where(p == 0.0, -np.inf, np.where(p == 1.0, np.inf, out))
    return np.where(np.isnan(p) | (p < 0.0) | (p > 1.0), np.nan, out)


_erfc = np.frompyfunc(math.erfc, 1, 1)


@ieee
def ndtr(x) -> np.ndarray:
    """The standard normal CDF, elementwise."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * _erfc(-x / math.sqrt(2.0)).astype(np.float64)
