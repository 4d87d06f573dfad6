"""The state protocol: what a fitted object is, as data, and the registry of kinds.

A fitted object gives its ``State``: its kind (the class name), its parameters, its fitted
values (named arrays, numbers, strings, and lists and dicts of them) and, for a composition,
its parts (sub-objects by name, with the columns they read). The same state is what the
fingerprint digests, what an artifact stores, and what an object is rebuilt from
(``cls._from_state``, which validates it). Kinds register themselves when their class is
defined (``fastprep._base.Fitted.__init_subclass__``); nothing here knows a class by name.

The fingerprint (``digest``) is the SHA-256 of the state's canonical form: equal states give
equal fingerprints in any process and on any machine, and a state that differs in one bit of
one array, one parameter, one column name or one part gives a different one. Integers are
compared by value (a count stored as uint8 or int64 is the same count), floats by their bits
at their own width, strings by their UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastprep.exceptions import ArtifactError, FastprepError

__all__ = ["CANONICAL_VERSION", "Built", "Part", "State", "build", "digest", "kind", "register"]

#: The canonical form's version: 2 digests the state protocol's states (fastprep 0.2,
#: artifact format 5); form 1, of earlier releases, digested another layout.
CANONICAL_VERSION = 2


@dataclass(frozen=True)
class Part:
    """A part of a composition: its name, the sub-object's state, a marker string (``"drop"``,
    ``"passthrough"``) or an object already built, and the columns it reads (None where parts
    read what the part before them gives)."""

    name: str
    state: State | str | Built
    columns: list[str] | None = None


@dataclass(frozen=True)
class Built:
    """A part given as an object already built: a step ``fastprep.convert`` keeps as the
    scikit-learn object it is, or one it built from its state to check it. Never read from
    an artifact: ``build`` hands it back as it is (saving writes a fastprep object's state
    and refuses any other object)."""

    obj: Any


@dataclass(frozen=True)
class State:
    """A fitted object as data (see the module docstring)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    parts: tuple[Part, ...] | None = None


# -- the registry ---------------------------------------------------------------------------------

_KINDS: dict[str, type] = {}


def register(cls: type) -> None:
    """Make ``cls`` a kind that artifacts and states name (by its class name). A fastprep
    kind is never replaced by a class from elsewhere."""
    name = cls.__name__
    existing = _KINDS.get(name)
    if existing is not None and existing is not cls:
        ours = existing.__module__.split(".")[0] == "fastprep"
        if ours and cls.__module__.split(".")[0] != "fastprep":
            raise TypeError(f"{cls.__module__}.{name}: the kind {name!r} is fastprep's own")
    _KINDS[name] = cls


def kind(name: str) -> type | None:
    """The class registered as ``name``."""
    return _KINDS.get(name)


def build(state: State, where: str = ""):
    """The fitted object of ``state``, rebuilt by its kind and validated. Anything wrong is an
    ArtifactError naming the kind and where in the object tree it sits."""
    if isinstance(state, Built):
        return state.obj
    at = where or "the root"
    cls = _KINDS.get(state.kind) if isinstance(state.kind, str) else None
    if cls is None:
        raise ArtifactError(
            f"unknown transform kind {state.kind!r} at {at}: it is not one of fastprep's (an "
            "artifact from a newer fastprep? upgrade fastprep)"
        )
    try:
        return cls._from_state(state, where)
    except ArtifactError:
        raise
    except (FastprepError, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ArtifactError(f"invalid fitted state of {state.kind} at {at}: {exc}") from None


# -- the fingerprint -------------------------------------------------------------------------------


def digest(state: State) -> str:
    """The SHA-256 (hex) of ``state``'s canonical form."""
    h = hashlib.sha256()

    def put(data: bytes) -> None:
        h.update(struct.pack("<Q", len(data)))
        h.update(data)

    put(f"fastprep-state-{CANONICAL_VERSION}".encode())
    _put_state(put, state)
    return h.hexdigest()


def _put_state(put, state: State) -> None:
    arrays: dict[str, np.ndarray] = {}
    plain = [_plain(state.params, "params", arrays), _plain(state.values, "values", arrays)]
    put(state.kind.encode())
    put(json.dumps(plain, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        a = arrays[name]
        put(name.encode())
        put(a.dtype.str.encode())
        put(json.dumps(list(a.shape)).encode())
        put(a.tobytes())
    if state.parts is None:
        put(b"")
        return
    put(str(len(state.parts)).encode())
    for p in state.parts:
        put(p.name.encode())
        put(json.dumps(p.columns).encode())
        if isinstance(p.state, str):
            put(b"marker:" + p.state.encode())
        else:
            put(b"object")
            _put_state(put, p.state)


def _plain(v: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    """``v`` as canonical JSON; numeric arrays go to ``arrays`` under their path."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (np.bool_, np.integer, np.floating)):
        return _plain(v.item(), path, arrays)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return {"float": v.hex()}  # exact, NaN and ±inf included
    if isinstance(v, (list, tuple)):
        return [_plain(x, f"{path}/{i}", arrays) for i, x in enumerate(v)]
    if isinstance(v, dict):
        return {str(k): _plain(x, f"{path}/{k}", arrays) for k, x in v.items()}
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return {"dtype": np.dtype(v).str}
    if isinstance(v, type) and v in (float, int, bool, str, object):
        return {"dtype": v.__name__}
    if isinstance(v, np.ndarray):
        return _plain_array(v, path, arrays)
    raise TypeError(f"{path}: a {type(v).__name__} is not data")


def _plain_array(a: np.ndarray, path: str, arrays: dict[str, np.ndarray]) -> Any:
    if a.dtype.kind in "OUT":
        flat = a.ravel().tolist()
        if all(isinstance(x, str) or x is None or (isinstance(x, float) and x != x) for x in flat):
            marks = ["n" if x is None else "f" if isinstance(x, float) else "s" for x in flat]
            texts = ["" if m != "s" else x for m, x in zip(marks, flat, strict=True)]
            return {"strings": texts, "marks": "".join(marks), "shape": list(a.shape),
                    "unicode": a.dtype.kind != "O"}  # fmt: skip
        return {"objects": [_plain(x, f"{path}/{i}", arrays) for i, x in enumerate(flat)],
                "shape": list(a.shape)}  # fmt: skip
    if a.dtype.kind in "biu":
        wide = a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size and a.max() > 2**63 - 1
        a = a.astype("<u8" if wide else "<i8")
    elif a.dtype.kind in "fc":
        a = a.astype(a.dtype.newbyteorder("<"))
    else:
        raise TypeError(f"{path}: an array of dtype {a.dtype} is not data")
    arrays[path] = np.ascontiguousarray(a)
    return {"array": path}
