"""The artifact file: a safetensors container whose metadata holds the JSON manifest (the
root state, the compiled plan's spec, the drift reference, the training profile, user
metadata, the fingerprint) and a SHA-256 over manifest and data (``fastprep.reference.artifact``
specifies it; ``fastprep_core::artifact`` reads the same files in Rust).

Loading reads the file into memory, checks its digest and format version, and rebuilds the
object from its state by the kinds' own ``_from_state`` (never code from the file). The object
owns its memory: replacing, rewriting or truncating the file afterwards cannot change a loaded
object's answers or crash the process. Update a model a service reads by writing a new file and
renaming it over the old one (what ``save`` does); a service then loads the new one when it
chooses to.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from fastprep import _backend
from fastprep._state import build
from fastprep._version import __version__

if TYPE_CHECKING:  # for annotations only: the base is built on this module
    from fastprep._base import Fitted

    F = TypeVar("F", bound=Fitted)
from fastprep.artifact.codec import (
    NUMPY_TO_DTYPE,
    Reader,
    Writer,
    decode_state,
    encode_state,
    spec_value,
)
from fastprep.artifact.profile import profile
from fastprep.exceptions import ArtifactError, FastprepError
from fastprep.reference.artifact import DTYPES, FORMAT, digest, digest_version

__all__ = [
    "FORMAT_VERSION",
    "MIN_READER_VERSION",
    "dumps",
    "inspect",
    "inspect_bytes",
    "load",
    "loads",
    "save",
]

#: The format version this fastprep writes, and the oldest reader that can read it.
FORMAT_VERSION = 5
MIN_READER_VERSION = 3


# -- writing --------------------------------------------------------------------------------------


def _manifest(obj, metadata) -> tuple[dict, dict[str, np.ndarray]]:
    if metadata is not None and not isinstance(metadata, dict):
        raise ArtifactError("metadata must be a dict of JSON values")
    try:
        json.dumps(metadata, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"metadata must be JSON (no NaN): {exc}") from None
    if not hasattr(obj, "_state"):
        raise ArtifactError(f"cannot save a {type(obj).__name__}: only fastprep's objects are")
    w = Writer()
    state = obj._state()
    root = encode_state(state, "", w)
    front = obj._front()
    plan = front._plan_spec()
    drift = getattr(front, "_drift_spec", None)
    drift = drift() if drift is not None else None
    manifest = {
        "format_version": FORMAT_VERSION,
        "min_reader_version": MIN_READER_VERSION,
        "fastprep_version": __version__,
        "kind": state.kind,
        "fingerprint": obj.fingerprint,
        "inputs": _inputs(front),
        "outputs": _outputs(front),
        "metadata": metadata or {},
        "profile": profile(obj),
        "root": root,
        "plan": None if plan is None else spec_value(plan, "plan", w),
        "drift": None if drift is None else spec_value(drift, "drift", w),
    }
    return manifest, w.tensors


def _inputs(front) -> list[dict]:
    names = getattr(front, "feature_names_in_", None)
    width = getattr(front, "n_features_in_", None)
    kinds = getattr(front, "_kinds", {})
    if names is None:
        return [{"name": f"x{j}", "type": "numeric"} for j in range(width or 0)]
    return [
        {
            "name": str(n),
            "type": "numeric" if kinds.get(str(n), "numeric") == "numeric" else "categorical",
        }
        for n in names
    ]


def _outputs(front) -> int | None:
    try:
        return front._n_features_out()
    except (FastprepError, AttributeError, TypeError, ValueError):
        return None


def _container(manifest: dict, tensors: dict[str, np.ndarray]) -> bytes:
    # No \u escapes anywhere (ensure_ascii=False): "\u00e9" and "\u00E9" decode alike, so a
    # flipped case bit in one would go unnoticed by the digest.
    text = json.dumps(
        manifest, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
    )
    # Widest items first keeps every tensor aligned to its item size (the header is padded).
    order = sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n))
    entries, position = [], 0
    for name in order:
        a = tensors[name]
        entries.append((name, NUMPY_TO_DTYPE[a.dtype.str], list(a.shape), position,
                        position + a.nbytes))  # fmt: skip
        position += a.nbytes
    data = b"".join(tensors[n].tobytes() for n in order)
    header: dict[str, Any] = {
        "__metadata__": {
            "format": FORMAT,
            "manifest": text,
            "sha256": digest(text, entries, data, digest_version(manifest["min_reader_version"])),
        }
    }
    for name, dtype, shape, begin, end in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-(8 + len(raw)) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def dumps(obj, metadata: dict | None = None) -> bytes:
    """The artifact of a fitted ``obj`` as bytes (what ``save`` writes)."""
    return _container(*_manifest(obj, metadata))


def save(obj, path, metadata: dict | None = None) -> Path:
    """Write the artifact of a fitted ``obj`` to ``path``, atomically: the file is written
    next to it and renamed, so a reader sees the old file or the new one, never a part."""
    data = dumps(obj, metadata)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# -- reading ------------------------------------------------------------------------------------

#: Artifacts at least this large have their digest checked on a second thread while the
#: state is built (both release the GIL); smaller ones are checked first, inline.
_PARALLEL_DIGEST_BYTES = 1 << 20


def _check(buffer, verify: bool = True) -> tuple[str, int, list[tuple]]:
    """The active backend's reader: layout, format and versions checked; the digest too when
    ``verify``."""
    return _backend.kernels().read_artifact(np.frombuffer(buffer, dtype=np.uint8), verify)


class _Tensors:
    """An artifact's arrays by name, each a read-only view of the buffer made on first use:
    a load makes only the arrays its objects read (not the compiled plan's, which the Python
    reader rebuilds, nor the drift reference's until it is used)."""

    __slots__ = ("_buffer", "_entries", "_made", "_start")

    def __init__(self, buffer, start: int, entries: list[tuple]) -> None:
        self._buffer, self._start = buffer, start
        self._entries = {e[0]: e for e in entries}
        self._made: dict[str, np.ndarray] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> np.ndarray:
        a = self._made.get(name)
        if a is None:
            _, dtype, shape, begin, end = self._entries[name]
            count = (end - begin) // DTYPES[dtype][1]
            a = np.frombuffer(
                self._buffer, dtype=DTYPES[dtype][0], count=count, offset=self._start + begin
            ).reshape(shape)
            self._made[name] = a
        return a


def _manifest_of(text: str) -> dict:
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError):
        raise ArtifactError("not a valid artifact: the manifest is not JSON") from None
    if not isinstance(manifest, dict):
        raise ArtifactError("not a valid artifact: the manifest is not a JSON object")
    return manifest


def _read(buffer, verify: bool = True) -> tuple[dict, _Tensors]:
    text, start, entries = _check(buffer, verify)
    return _manifest_of(text), _Tensors(buffer, start, entries)


def _build(manifest: dict, tensors: _Tensors):
    reader = Reader(tensors)
    try:
        obj = build(decode_state(manifest.get("root"), reader))
    except RecursionError:
        raise ArtifactError("not a valid artifact: values nest too deep") from None
    drift = manifest.get("drift")
    profile = manifest.get("profile")
    try:
        obj._front()._loaded(profile, None if drift is None else (drift, reader.tensor))
    except FastprepError as exc:
        raise ArtifactError(f"not a valid artifact: {exc}") from None
    return obj


@overload
def loads(data: bytes | bytearray | memoryview) -> Fitted: ...
@overload
def loads(data: bytes | bytearray | memoryview, kind: type[F]) -> F: ...
def loads(data, kind=None):
    """The fitted object of an artifact held in memory (bytes, bytearray, memoryview). A
    writable buffer is copied first: reusing it afterwards does not change the object.
    ``kind`` (a class, such as ``fastprep.ColumnTransformer``): the object must be one, else
    ArtifactError; type checkers then know its class."""
    if isinstance(data, memoryview):
        data = data if data.readonly and data.contiguous else bytes(data)
    elif isinstance(data, bytearray):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise ArtifactError(f"loads takes bytes, got {type(data).__name__}")
    return _of_kind(_load(data), kind)


def _of_kind(obj, kind):
    if kind is not None and not isinstance(obj, kind):
        raise ArtifactError(
            f"the artifact holds a {type(obj).__name__}, not a {getattr(kind, '__name__', kind)}"
        )
    return obj


def _load(buffer):
    """Check and build. A large artifact's digest is checked on a second thread while the
    state is built from it; nothing is returned before the digest has matched, and a digest
    mismatch is the error reported even if building failed too."""
    if len(buffer) < _PARALLEL_DIGEST_BYTES:
        return _build(*_read(buffer))
    manifest, tensors = _read(buffer, verify=False)
    failure: list[BaseException] = []

    def verify() -> None:
        try:
            _check(buffer)
        except BaseException as exc:  # reported on the calling thread
            failure.append(exc)

    thread = threading.Thread(target=verify, name="fastprep-artifact-digest")
    thread.start()
    try:
        obj = _build(manifest, tensors)
    finally:
        thread.join()
        if failure:
            raise failure[0]
    return obj


def _file_bytes(path) -> bytes:
    """The bytes of the regular file at ``path``. Anything else (a device, a FIFO, a
    directory) is refused before a byte is read: opened without blocking, checked by its
    status, never read for ever."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArtifactError(f"{os.fspath(path)!r} is not a regular file")
        return f.read()


@overload
def load(path: str | os.PathLike[str]) -> Fitted: ...
@overload
def load(path: str | os.PathLike[str], kind: type[F]) -> F: ...
def load(path, kind=None):
    """The fitted object saved at ``path``. The file is read into memory; its digest and
    format version are checked and its fitted state validated: anything wrong raises
    ArtifactError. Replacing the file afterwards does not affect the loaded object.
    ``kind``: as in ``loads``."""
    return _of_kind(_load(_file_bytes(path)), kind)


def inspect(path) -> dict:
    """What the artifact at ``path`` holds, without building it: its manifest (format and
    fastprep versions, kind, fingerprint, inputs, user metadata, training profile, structure)
    plus ``size`` in bytes and ``arrays``, the name, dtype and shape of each array. The digest
    is checked; the fingerprint is shown as saved (``load(path).fingerprint`` recomputes it
    from the state)."""
    return _inspect(_file_bytes(path))


def inspect_bytes(data) -> dict:
    """``inspect`` of an artifact held in memory."""
    return _inspect(bytes(data) if isinstance(data, (bytearray, memoryview)) else data)


def _inspect(buffer) -> dict:
    text, _, entries = _check(buffer)
    manifest = _manifest_of(text)
    manifest["size"] = len(buffer)
    manifest["arrays"] = [{"name": n, "dtype": d, "shape": s} for n, d, s, _, _ in sorted(entries)]
    return manifest
