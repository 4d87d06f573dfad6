"""Reference kernels follow IEEE arithmetic silently, like the Rust kernels: an overflow gives
±inf and an invalid operation NaN, with no NumPy RuntimeWarning."""

from __future__ import annotations

import functools

import numpy as np


def ieee(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper
