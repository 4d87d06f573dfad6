"""Choice between the compiled Rust kernels (``fastprep._core``) and the NumPy reference.

Both expose the same kernel functions with the same signatures; transforms call
``kernels().<name>(...)`` and never know which one answered.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

from fastprep import reference
from fastprep.exceptions import BackendError, ParameterError

try:
    # By its full name: `from fastprep import _core` would ask the package being initialised,
    # and a missing module would read as a circular import.
    _core = importlib.import_module("fastprep._core")
except ImportError as exc:  # a source checkout without a build, or a broken wheel
    _core = None
    _CORE_IMPORT_ERROR: ImportError | None = exc
else:
    _CORE_IMPORT_ERROR = None

BACKENDS = ("rust", "python")

# The process-wide choice, and a context-local override for `use_backend` so that one thread
# or task switching backends does not affect the others.
_default: str = "python"
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fastprep_backend", default=None
)


def _check(name: str) -> str:
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: choose 'rust' or 'python'")
    if name == "rust" and _core is None:
        raise BackendError(
            "the 'rust' backend is not available: fastprep._core could not be imported "
            f"({_CORE_IMPORT_ERROR}). Install fastprep with `pip install .` (needs a Rust "
            "toolchain) or use the 'python' backend."
        )
    return name


def get_backend() -> str:
    """The backend in effect here: ``"rust"`` or ``"python"``."""
    return _override.get() or _default


def set_backend(name: str) -> None:
    """Select the backend for the whole process (``"rust"`` or ``"python"``)."""
    global _default
    _default = _check(name)


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Use backend ``name`` inside a ``with`` block (local to the current thread or task)."""
    token = _override.set(_check(name))
    try:
        yield
    finally:
        _override.reset(token)


def set_num_threads(n: int) -> None:
    """Cap the threads the Rust kernels split a large batch across: 1 runs every call on the
    calling thread (for services that run one request per thread), 0 (the default) uses every
    core (rayon's pool, sized by RAYON_NUM_THREADS). A single row never uses more than one."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ParameterError(f"set_num_threads takes an int >= 0, got {n!r}")
    if _core is not None:
        _core.set_max_threads(n)


def get_num_threads() -> int:
    """The cap set by ``set_num_threads`` (0: every core)."""
    return _core.max_threads() if _core is not None else 1


def kernels() -> ModuleType:
    """The kernel module of the backend in effect."""
    if get_backend() == "rust":
        assert _core is not None  # _check guarantees it
        return _core
    return reference


def _init_from_environment() -> None:
    requested = os.environ.get("FASTPREP_BACKEND", "").strip().lower()
    if requested:
        set_backend(requested)  # an explicit request that cannot be met is an error
    elif _core is not None:
        set_backend("rust")
    else:
        warnings.warn(
            f"fastprep._core is not available ({_CORE_IMPORT_ERROR}); fastprep runs on its "
            "NumPy reference kernels. Set FASTPREP_BACKEND=python to silence this warning.",
            RuntimeWarning,
            stacklevel=3,
        )
    if _core is not None and getattr(_core, "DEBUG_BUILD", False):
        warnings.warn(
            "fastprep._core is a debug build: kernels are many times slower than a release "
            "build (`pip install .` or `maturin develop --release`).",
            RuntimeWarning,
            stacklevel=3,
        )


_init_from_environment()
