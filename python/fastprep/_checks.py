"""Parameter checks: each raises ParameterError naming the owner, the parameter and the value."""

from __future__ import annotations

import numbers

import numpy as np

from fastprep.exceptions import ParameterError


def check_bool(owner: str, name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{owner}: {name} must be True or False, got {value!r}")


def check_choice(owner: str, name: str, value, choices: tuple) -> None:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{owner}: {name} must be one of {options}, got {value!r}")


def check_real(owner: str, name: str, value, *, finite: bool = True) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise ParameterError(f"{owner}: {name} must be a real number, got {value!r}")
    if finite and not np.isfinite(value):
        raise ParameterError(f"{owner}: {name} must be finite, got {value!r}")
    return float(value)


def check_int(owner: str, name: str, value, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ParameterError(f"{owner}: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_pair(
    owner: str, name: str, value, *, lo: float = -np.inf, hi: float = np.inf, strict: bool = True
):
    """A pair ``(a, b)`` of finite reals with ``lo <= a < b <= hi`` (``a <= b`` if not strict)."""
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ParameterError(f"{owner}: {name} must be a pair (min, max), got {value!r}") from None
    a = check_real(owner, name, a)
    b = check_real(owner, name, b)
    if not (lo <= a <= b <= hi) or (strict and a == b):
        bounds = "" if np.isinf(lo) else f" within [{lo:g}, {hi:g}]"
        relation = "<" if strict else "<="
        raise ParameterError(
            f"{owner}: {name} must satisfy min {relation} max{bounds}, got {value!r}"
        )
    return a, b
