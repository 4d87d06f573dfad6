"""The fitted state of any fastprep object as named arrays plus parameters, and its fingerprint.

A fitted transform is a small set of named arrays and scalar parameters (DESIGN: "one state,
two kernels"). ``state(obj)`` lists them in a canonical order; ``fingerprint(obj)`` is the
SHA-256 of that canonical form. Equal states give equal fingerprints, in any process and on
any machine; a state that differs in one bit of one array, one parameter or one column name
gives a different one. Services log it to tie a prediction to the preprocessing that made it.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

import numpy as np

__all__ = ["fingerprint", "state"]

#: Bumped whenever the canonical form changes, so that old and new digests never collide.
CANONICAL_VERSION = 1


def _jsonable(value: Any) -> Any:
    """Parameters as canonical JSON values (NumPy scalars and dtypes by their names)."""
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return {"float": value.hex()}  # exact, NaN and ±inf included
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return _jsonable(value.item())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, np.ndarray):
        return {"array": _jsonable(value.tolist())}
    if isinstance(value, type) or isinstance(value, np.dtype):
        return {"dtype": np.dtype(value).str}
    if hasattr(value, "get_params"):
        return {"estimator": type(value).__name__}
    return {"repr": repr(value)}


def _array(value: Any) -> np.ndarray:
    """A state array in canonical form: C order; strings as UTF-8 with lengths."""
    a = np.asarray(value)
    if a.dtype == object:
        items = [("" if v is None else str(v)) for v in a.ravel().tolist()]
        flags = [
            0 if v is None else 2 if isinstance(v, float) and v != v else 1
            for v in a.ravel().tolist()
        ]
        encoded = [s.encode("utf-8") for s in items]
        header = np.asarray([len(e) for e in encoded] + flags, dtype="<i8")
        return np.frombuffer(header.tobytes() + b"".join(encoded), dtype=np.uint8)
    return np.ascontiguousarray(a)


def _base_state(obj) -> dict[str, Any]:
    out: dict[str, Any] = {"n_features_in_": getattr(obj, "n_features_in_", None)}
    names = getattr(obj, "feature_names_in_", None)
    if names is not None:
        out["feature_names_in_"] = np.asarray(names, dtype=object)
    return out


def state(obj) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """``(kind, params, arrays)`` of a fitted fastprep object; nested objects (pipeline steps,
    column transformers) appear under ``<name>/`` prefixes."""
    from fastprep.compose import ColumnTransformer, Pipeline
    from fastprep.encode import _Encoder
    from fastprep.hashing import FeatureHasher
    from fastprep.postprocess import Bundle, PostPipeline, TargetInverse, _Fitted

    kind = type(obj).__name__
    arrays: dict[str, np.ndarray] = {}
    if isinstance(obj, FeatureHasher):
        return kind, obj.get_params(), arrays
    if isinstance(obj, (Bundle, PostPipeline, TargetInverse)):
        if isinstance(obj, Bundle):
            parts = list(obj.parts.items())
        elif isinstance(obj, PostPipeline):
            parts = list(obj.steps)
        else:
            parts = [("transformer", obj.transformer)]
        layout = []
        for name, part in parts:
            sub_kind, sub_params, sub_arrays = state(part)
            layout.append({"name": name, "step": sub_kind, "params": sub_params})
            arrays.update({f"{name}/{k}": v for k, v in sub_arrays.items()})
        return kind, {"steps": layout}, arrays
    if isinstance(obj, _Fitted):
        obj._check_fitted()
        return kind, obj.get_params(), {k: np.asarray(v) for k, v in obj._artifact_state().items()}
    if isinstance(obj, (Pipeline, ColumnTransformer)):
        obj._check_fitted()
        params: dict[str, Any] = {}
        if isinstance(obj, Pipeline):
            parts = [(name, step, None) for name, step in obj._active()]
        else:
            parts = list(obj.transformers_)
            params = {
                "remainder": obj.remainder,
                "sparse_threshold": obj.sparse_threshold,
                "verbose_feature_names_out": obj.verbose_feature_names_out,
                "sparse_output_": bool(obj.sparse_output_),
            }
        layout = []
        for name, step, columns in parts:
            entry: dict[str, Any] = {"name": name, "columns": columns}
            if isinstance(step, str):
                entry["step"] = step
            else:
                sub_kind, sub_params, sub_arrays = state(step)
                entry["step"] = sub_kind
                entry["params"] = sub_params
                for key, value in sub_arrays.items():
                    arrays[f"{name}/{key}"] = value
            layout.append(entry)
        params["steps"] = layout
        for key, value in _base_state(obj).items():
            if value is not None:
                arrays[key] = value
        return kind, params, arrays
    if not getattr(obj, "is_fitted", False):
        from fastprep.exceptions import NotFittedError

        raise NotFittedError(f"{kind} is not fitted yet: a fingerprint needs a fitted state")
    params = obj.get_params()
    for key, value in _base_state(obj).items():
        if value is not None:
            arrays[key] = value
    if isinstance(obj, _Encoder):
        for j, c in enumerate(obj._columns):
            p = f"column{j}/"
            arrays[p + "kind"] = np.asarray([c.kind], dtype=object)
            for k, v in enumerate(c.vocab[1:]):
                if v is not None:
                    arrays[p + f"vocab{k}"] = np.asarray(v)
            arrays[p + "categories"] = np.asarray(c.categories, dtype=object)
            arrays[p + "order"] = np.arange(c.n_codes) if c.order is None else c.order
            arrays[p + "counts"] = np.asarray(c.counts, dtype=np.int64)
            arrays[p + "missing"] = np.asarray([c.missing, int(c.has_missing)])
            if c.infrequent is not None:
                arrays[p + "infrequent"] = c.infrequent
        return kind, params, arrays
    for key in getattr(obj, "_state_keys", ()):
        value = getattr(obj, key)
        nested = isinstance(value, (list, tuple)) or (
            isinstance(value, np.ndarray) and value.dtype == object
        )
        if nested and len(value) and all(isinstance(v, np.ndarray) for v in value):
            for k, v in enumerate(value):
                arrays[f"{key}/{k}"] = v
        elif value is not None:
            arrays[key] = np.asarray(value)
    if getattr(obj, "_strings", False):
        arrays["statistics_"] = np.asarray(obj.statistics_, dtype=object)
    return kind, params, arrays


def fingerprint(obj) -> str:
    """The SHA-256 (hex) of ``obj``'s canonical fitted state."""
    kind, params, arrays = state(obj)
    digest = hashlib.sha256()

    def put(data: bytes) -> None:
        digest.update(struct.pack("<Q", len(data)))
        digest.update(data)

    put(f"fastprep-state-{CANONICAL_VERSION}".encode())
    put(kind.encode())
    put(json.dumps(_jsonable(params), sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        a = _array(arrays[name])
        put(name.encode())
        put(a.dtype.str.encode())
        put(json.dumps(list(a.shape)).encode())
        put(a.tobytes())
    return digest.hexdigest()
