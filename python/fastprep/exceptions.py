"""The fastprep error hierarchy, raised identically by the Rust and the Python backend.

Every class also derives from the builtin that existing handlers expect, so
``except ValueError`` keeps working around fastprep code.
"""

from __future__ import annotations

import functools
import sys

__all__ = [
    "ArtifactError",
    "BackendError",
    "ColumnTypeError",
    "ConversionError",
    "DataError",
    "FastprepError",
    "NotFittedError",
    "ParameterError",
    "SchemaError",
    "UnknownCategoryError",
]


class FastprepError(Exception):
    """Base class of every error fastprep raises on purpose."""


class SchemaError(FastprepError, ValueError):
    """The input's shape or columns do not match: wrong dimensions, a missing, extra or
    mistyped column, or a different number of columns than at fit."""


class ColumnTypeError(SchemaError, TypeError):
    """A column holds a value of a type no transform reads (a dict among numbers). Also a
    TypeError, as ``float()`` raises for it."""


class DataError(FastprepError, ValueError):
    """A value the transform cannot accept: no rows to fit on, infinity where only finite
    values or NaN are allowed, a non-positive value for Box-Cox."""


class ParameterError(FastprepError, ValueError):
    """A constructor parameter outside its domain."""


class ConversionError(FastprepError, ValueError):
    """An object ``from_sklearn`` cannot take over: each step fastprep has no counterpart of,
    by its path and class."""


class NotFittedError(FastprepError, ValueError, AttributeError):
    """The transform was used before ``fit`` (same bases as scikit-learn's)."""


def not_fitted(message: str) -> NotFittedError:
    """A NotFittedError that, once scikit-learn is imported, is scikit-learn's too: code (and
    scikit-learn's checks) catching ``sklearn.exceptions.NotFittedError`` catch it."""
    sklearn = sys.modules.get("sklearn.exceptions")
    if sklearn is None:
        return NotFittedError(message)
    return _with_sklearn(sklearn.NotFittedError)(message)


@functools.cache
def _with_sklearn(theirs: type) -> type:
    return type("NotFittedError", (NotFittedError, theirs), {"__module__": __name__})


class UnknownCategoryError(FastprepError, ValueError):
    """A category not seen at fit, under a policy that refuses it."""


class ArtifactError(FastprepError, ValueError):
    """A saved artifact is corrupt, tampered with, or of an unsupported version."""


class BackendError(FastprepError, RuntimeError):
    """The requested backend does not exist or is not available in this installation."""
