"""Artifacts: a fitted transform or pipeline as one data-only file.

``obj.save(path, metadata=...)`` writes it; ``fastprep.load(path)`` gives the fitted object
back, with the same outputs and fingerprint; ``fastprep.inspect(path)`` reads the manifest
without building anything. Loading never executes code from the file: the container is
safetensors (arrays) with a JSON manifest (structure, parameters, fingerprint, user metadata,
training profile), and the reader only builds NumPy arrays, plain values and fastprep's own
classes named in the manifest. ``fastprep.reference.artifact`` specifies the container and its
SHA-256; ``fastprep_core::artifact`` reads the same files in Rust.

Why safetensors rather than Arrow IPC: its header is one JSON object that a reader checks
before touching the data, its layout rules are simple enough to verify completely (the Rust
crate and the reference reader both do), tensors are aligned for zero-copy views, and the
format is widely read (Python, Rust, C++). Arrow IPC would need flatbuffers parsing of
arbitrary schemas and brings nothing the fitted state needs.

Loading validates the fitted state, not only the bytes: non-finite or zero scales, unsorted or
non-finite bin edges and quantiles, vocabularies that are not sorted and distinct, arrays whose
widths do not match the number of columns, and pipelines whose steps do not chain are refused
with ArtifactError.

A loaded numeric transform transforms but cannot ``partial_fit`` or ``merge`` (its training
accumulator, which may hold every training value, is not saved); encoders keep their category
counts, which are their whole fit, so they can go on fitting.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import mmap
import numbers
import os
import re
import struct
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from fastprep import _backend
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
FORMAT_VERSION = 4
MIN_READER_VERSION = 3

_NUMPY_TO_DTYPE = {np.dtype(v[0]).str: k for k, v in DTYPES.items()}
_DTYPE_NAMES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "object",
    "str",
}
_STATE_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_./-]")


@functools.cache
def _kinds() -> dict[str, type]:
    import fastprep as fp

    classes = [
        fp.Binarizer, fp.ColumnTransformer, fp.CountEncoder, fp.FeatureHasher,
        fp.KBinsDiscretizer, fp.MaxAbsScaler, fp.MinMaxScaler, fp.Normalizer, fp.OneHotEncoder,
        fp.OrdinalEncoder, fp.Pipeline, fp.PowerTransformer, fp.QuantileTransformer,
        fp.RobustScaler, fp.SimpleImputer, fp.StandardScaler,
        fp.Bundle, fp.Calibrator, fp.LabelDecoder, fp.PostPipeline, fp.TargetInverse,
        fp.Threshold,
    ]  # fmt: skip
    return {c.__name__: c for c in classes}


# -- values: JSON plus tensors ----------------------------------------------------------------


class _Writer:
    """Collects the tensors of one artifact while values are encoded as JSON."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}
        self._written: dict[int, tuple[np.ndarray, str]] = {}
        self._by_content: dict[tuple, str] = {}

    def tensor(self, name: str, array: np.ndarray) -> str:
        # The same array object again (an encoder's vocabulary in its state and in the plan)
        # takes its name at once, without the copy and hash of `_store`'s check for equal
        # arrays.
        seen = self._written.get(id(array))
        if seen is not None and seen[0] is array:
            return seen[1]
        name = self._store(name, array)
        self._written[id(array)] = (array, name)
        return name

    def _store(self, name: str, array: np.ndarray) -> str:
        # Names come from paths that hold user text (step names): keep them to plain ASCII.
        name = _UNSAFE.sub("_", name)
        while name in self.tensors:
            name += "~"
        a = np.ascontiguousarray(array)
        if a.dtype.str not in _NUMPY_TO_DTYPE:
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.dtype.str not in _NUMPY_TO_DTYPE:
            raise ArtifactError(f"cannot save an array of dtype {a.dtype} ({name})")
        # Equal arrays are stored once and referenced by every value that holds them: a string
        # imputer before an encoder holds the encoder's vocabulary, and a pipeline its steps'
        # column names. Fewer arrays make the header shorter and the load faster.
        key = (a.dtype.str, a.shape, hashlib.sha256(a.reshape(-1).view(np.uint8)).digest())
        same = self._by_content.get(key)
        if same is not None:
            return same
        self.tensors[name] = a
        self._by_content[key] = name
        return name

    def strings(self, name: str, values) -> dict:
        """An array of strings (None and NaN allowed) as UTF-8 bytes plus int64 offsets."""
        items = list(values)
        encoded = [b"" if not isinstance(v, str) else v.encode("utf-8") for v in items]
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        ref = {
            "$strings": self.tensor(name + ".data", np.frombuffer(b"".join(encoded), np.uint8)),
            "offsets": self.tensor(name + ".offsets", offsets),
        }
        kinds = [0 if isinstance(v, str) else 1 if v is None else 2 for v in items]
        if any(kinds):
            ref["missing"] = self.tensor(name + ".missing", np.asarray(kinds, dtype=np.uint8))
        return ref

    def value(self, v: Any, name: str) -> Any:
        """A parameter or fitted attribute as JSON; arrays go to tensors named ``name``."""
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, numbers.Integral) and not isinstance(v, np.bool_):
            return int(v)
        if isinstance(v, (float, np.floating)):
            v = float(v)
            return v if math.isfinite(v) else {"$float": repr(v)}
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, tuple):
            return {"$tuple": [self.value(x, f"{name}.{i}") for i, x in enumerate(v)]}
        if isinstance(v, list):
            return [self.value(x, f"{name}.{i}") for i, x in enumerate(v)]
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            out = {k: self.value(x, f"{name}.{k}") for k, x in v.items()}
            # Tags are keys starting with "$": a dict with such keys of its own is wrapped.
            return {"$dict": out} if any(k.startswith("$") for k in v) else out
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            return {"$dtype": np.dtype(v).name}
        if isinstance(v, type) and v in (float, int, bool, str, object):
            return {"$dtype": v.__name__}
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "U":  # NumPy strings: stored as strings, their dtype kept
                ref = self.strings(name, v.ravel().tolist())
                return {**ref, "shape": list(v.shape), "unicode": v.dtype.str}
            if v.dtype != object:
                return {"$array": self.tensor(name, v)}
            flat = v.ravel().tolist()
            if all(isinstance(x, str) or x is None or _is_nan(x) for x in flat):
                return {**self.strings(name, flat), "shape": list(v.shape)}
            return {
                "$objects": [self.value(x, f"{name}.{i}") for i, x in enumerate(flat)],
                "shape": list(v.shape),
            }
        raise ArtifactError(f"cannot save {name}: a {type(v).__name__} is not data")


def _is_nan(x) -> bool:
    return isinstance(x, (float, np.floating)) and x != x


#: The JSON scalar types, as `json.loads` makes them.
_PLAIN = frozenset((bool, str, int, float))


class _Reader:
    """Decodes JSON values, resolving tensor references into read-only arrays."""

    def __init__(self, tensors: _Tensors) -> None:
        self.tensors = tensors

    def tensor(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.tensors:
            raise ArtifactError(f"not a valid artifact: missing array {name!r}")
        return self.tensors[name]

    def strings(self, ref: dict) -> list:
        data = self.tensor(ref["$strings"])
        offsets = self.tensor(ref.get("offsets"))
        if data.dtype != np.uint8 or offsets.dtype != np.int64 or offsets.ndim != 1:
            raise ArtifactError("not a valid artifact: malformed strings")
        bounds = offsets.tolist()  # Python ints: slicing with NumPy scalars costs more
        n = len(bounds) - 1
        if n < 0 or bounds[0] != 0 or bounds[-1] != len(data):
            raise ArtifactError("not a valid artifact: string offsets out of order")
        if any(a > b for a, b in itertools.pairwise(bounds)):
            raise ArtifactError("not a valid artifact: string offsets out of order")
        raw = data.tobytes()
        try:
            items: list = [raw[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]
        except UnicodeDecodeError:
            raise ArtifactError("not a valid artifact: strings are not UTF-8") from None
        if "missing" in ref:
            missing = self.tensor(ref["missing"])
            if missing.shape != (n,) or missing.dtype != np.uint8:
                raise ArtifactError("not a valid artifact: malformed strings")
            items = [
                s if k == 0 else None if k == 1 else float("nan")
                for s, k in zip(items, missing.tolist(), strict=True)
            ]
        return items

    def value(self, v: Any) -> Any:
        if v is None or type(v) in _PLAIN:
            return v
        # Most items are plain values (parameters, names, counts): no call for those.
        if type(v) is list:
            return [x if x is None or type(x) in _PLAIN else self.value(x) for x in v]
        if not isinstance(v, dict):
            raise ArtifactError(f"not a valid artifact: unexpected value {v!r:.80}")
        if len(v) == 1 and "$array" in v:  # most tagged values: straight to the array
            return self.tensor(v["$array"])
        tags = [k for k in v if k.startswith("$")]
        if not tags:
            return {k: x if x is None or type(x) in _PLAIN else self.value(x) for k, x in v.items()}
        if len(tags) > 1:
            raise ArtifactError(f"not a valid artifact: value with tags {tags}")
        tag = tags[0]
        body = v[tag]
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$tuple" and isinstance(body, list):
            return tuple(self.value(x) for x in body)
        if tag == "$dict" and isinstance(body, dict):
            return {k: self.value(x) for k, x in body.items()}
        if tag == "$dtype" and body in _DTYPE_NAMES:
            return {"object": object, "str": str}.get(body) or np.dtype(body).type
        if tag == "$array":
            return self.tensor(body)
        if tag in ("$strings", "$objects"):
            shape = v.get("shape")
            items = self.strings(v) if tag == "$strings" else [self.value(x) for x in body]
            if not isinstance(items, list):
                raise ArtifactError("not a valid artifact: malformed object array")
            unicode = v.get("unicode")
            if unicode is not None and not (
                isinstance(unicode, str) and re.fullmatch(r"[<>|]U[0-9]{1,6}", unicode)
            ):
                raise ArtifactError("not a valid artifact: malformed string dtype")
            out = np.empty(len(items), dtype=object)
            out[:] = items
            try:
                if unicode is not None:
                    out = out.astype(unicode)
                return out.reshape(shape)
            except (TypeError, ValueError):
                raise ArtifactError("not a valid artifact: malformed object array") from None
        raise ArtifactError(f"not a valid artifact: unknown value tag {tag!r}")


# -- objects ---------------------------------------------------------------------------------


def _encode(obj, path: str, w: _Writer) -> dict:
    kind = type(obj).__name__
    if _kinds().get(kind) is not type(obj):
        raise ArtifactError(f"cannot save a {kind}: only fastprep's transforms are saved")
    node: dict[str, Any] = {"kind": kind}
    params, state, parts = _state_of(obj)
    node["params"] = w.value(params, f"{path}params")
    if parts is not None:
        node["parts"] = [
            {
                "name": name,
                "columns": columns,
                **(
                    {"step": step}
                    if isinstance(step, str)
                    else {"node": _encode(step, f"{path}{name}/", w)}
                ),
            }
            for name, step, columns in parts
        ]
    node["state"] = {k: w.value(v, f"{path}{k}") for k, v in state.items()}
    return node


def _narrow(counts: np.ndarray) -> np.ndarray:
    """Counts in the smallest of uint8, uint16, uint32 that holds them (else int64): a
    1M-category vocabulary's counts are 8 MB as int64, 1 to 4 MB narrowed, and every saved
    byte is a byte the load digests. Readers keep them narrow (see ``_counts_of``)."""
    top = int(counts.max()) if counts.size else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return counts.astype(dtype)
    return counts


def _counts_state(acc) -> dict:
    """A CategoryCounts (an encoder's or a string imputer's whole fit) as plain values."""
    return {
        "n_rows": acc.n_rows,
        "kinds": list(acc.kinds),
        "columns": [
            {
                "core": core,
                "values": values,
                "offsets": offsets,
                "counts": _narrow(np.asarray(counts, dtype=np.int64)),
                "missing": int(missing),
            }
            for core, values, offsets, counts, missing in acc.columns
        ],
    }


#: What category counts may be saved as (format 3 narrows them; see ``_narrow``).
_COUNT_DTYPES = tuple(np.dtype(t) for t in (np.int64, np.uint8, np.uint16, np.uint32))


def _counts_of(state: dict, check_values: bool):
    from fastprep.accumulators import CORE_KIND, CategoryCounts

    kinds, columns, n_rows = state.get("kinds"), state.get("columns"), state.get("n_rows")
    if not (isinstance(kinds, list) and isinstance(columns, list) and len(kinds) == len(columns)):
        raise ArtifactError("not a valid artifact: malformed category counts")
    if not isinstance(n_rows, int) or n_rows < 0:
        raise ArtifactError("not a valid artifact: malformed category counts")
    counted = []
    for j, (kind, c) in enumerate(zip(kinds, columns, strict=True)):
        if kind not in CORE_KIND or not isinstance(c, dict) or c.get("core") != CORE_KIND[kind]:
            raise ArtifactError(f"not a valid artifact: column {j} has an unknown kind {kind!r}")
        values, offsets, counts = c.get("values"), c.get("offsets"), c.get("counts")
        missing = c.get("missing")
        dtype = {"str": np.uint8, "int": np.int64, "float": np.float64}[c["core"]]
        if not (
            isinstance(values, np.ndarray)
            and values.dtype == dtype
            and values.ndim == 1
            and isinstance(counts, np.ndarray)
            and counts.dtype in _COUNT_DTYPES
            and counts.ndim == 1
            and isinstance(missing, int)
            and 0 <= missing <= n_rows
            and (offsets is None) == (c["core"] != "str")
        ):
            raise ArtifactError(f"not a valid artifact: malformed counts of column {j}")
        size = len(values) if offsets is None else len(offsets) - 1
        if size <= 64:  # Python's min and sum on a short list cost less than NumPy's calls
            seen = counts.tolist()
            low, total = min(seen, default=1), sum(seen)
        else:
            low, total = counts.min(), int(counts.sum())
        if len(counts) != size or low <= 0 or total + missing > n_rows:
            raise ArtifactError(
                f"not a valid artifact: column {j} has {len(counts)} counts for {size} "
                "categories, or counts that do not add up to the rows seen"
            )
        # What lookups rely on (offsets in bounds, values sorted and distinct) is checked by
        # the lookup table an encoder builds from them anyway; others build one to check.
        if check_values:
            try:
                _backend.kernels().CategoryIndex(c["core"], values, offsets)
            except (FastprepError, ValueError, TypeError) as exc:
                raise ArtifactError(f"not a valid artifact: column {j}: {exc}") from None
        counted.append((c["core"], values, offsets, counts, missing))
    return CategoryCounts(tuple(kinds), tuple(counted), n_rows)


def _state_of(obj) -> tuple[dict, dict, list | None]:
    """``(params, fitted state, parts)`` of a fitted object; parts for compositions only."""
    from fastprep.compose import ColumnTransformer, Pipeline
    from fastprep.encode import _Encoder
    from fastprep.hashing import FeatureHasher
    from fastprep.impute import SimpleImputer
    from fastprep.postprocess import Bundle, PostPipeline, TargetInverse, _Fitted

    if isinstance(obj, Bundle):
        return {}, {}, [(n, p, None) for n, p in obj.parts.items()]
    if isinstance(obj, PostPipeline):
        obj._check_fitted()
        return {}, {}, [(n, s, None) for n, s in obj.steps]
    if isinstance(obj, TargetInverse):
        obj._check_fitted()
        return {}, {}, [("transformer", obj.transformer, None)]
    if isinstance(obj, _Fitted):
        return obj.get_params(), obj._artifact_state(), None
    if isinstance(obj, (Pipeline, ColumnTransformer)):
        obj._check_fitted()
        state = {"n_features_in_": obj.n_features_in_, "_kinds": dict(obj._kinds)}
        if getattr(obj, "feature_names_in_", None) is not None:
            state["feature_names_in_"] = obj.feature_names_in_
        if isinstance(obj, Pipeline):
            parts = [(n, "passthrough" if s is None else s, None) for n, s in obj.steps]
            return {}, state, parts
        params = obj.get_params(deep=False)
        del params["transformers"]
        state["sparse_output_"] = bool(obj.sparse_output_)
        return params, state, [(n, s, list(c)) for n, s, c in obj.transformers_]
    if isinstance(obj, FeatureHasher):
        return obj.get_params(), {}, None
    obj._check_fitted()
    state: dict[str, Any] = {"n_features_in_": obj.n_features_in_}
    if getattr(obj, "feature_names_in_", None) is not None:
        state["feature_names_in_"] = obj.feature_names_in_
    if isinstance(obj, _Encoder) or (
        isinstance(obj, SimpleImputer) and getattr(obj, "_strings", False)
    ):
        if obj.accumulator_ is None:
            raise ArtifactError(f"{type(obj).__name__}: no category counts to save")
        state["counts"] = _counts_state(obj.accumulator_)
        return obj.get_params(), state, None
    derived = getattr(obj, "_derived_state", ())
    state.update({k: getattr(obj, k) for k in obj._state_keys if k not in derived})
    return obj.get_params(), state, None


def _restore(cls, params: dict, state: dict, parts: list | None):
    """A fitted ``cls`` from its parameters and state, validated (see the module docstring)."""
    from fastprep.compose import ColumnTransformer, Pipeline
    from fastprep.encode import _Encoder
    from fastprep.hashing import FeatureHasher
    from fastprep.impute import SimpleImputer
    from fastprep.postprocess import Bundle, PostPipeline, TargetInverse, _Fitted

    if issubclass(cls, (Pipeline, ColumnTransformer, Bundle, PostPipeline, TargetInverse)):
        if parts is None:
            raise ArtifactError(f"not a valid artifact: a {cls.__name__} without its parts")
        if issubclass(cls, (Pipeline, ColumnTransformer)):
            return cls._from_parts(params, parts, state)
        if params or state or any(c is not None or isinstance(p, str) for _, p, c in parts):
            raise ArtifactError(f"not a valid artifact: malformed {cls.__name__}")
        if issubclass(cls, Bundle):
            return Bundle(**{n: p for n, p, _ in parts})
        if issubclass(cls, TargetInverse):
            if len(parts) != 1 or not getattr(parts[0][1], "is_fitted", False):
                raise ArtifactError("not a valid artifact: malformed TargetInverse")
            return TargetInverse(parts[0][1])
        return PostPipeline([(n, p) for n, p, _ in parts])
    if issubclass(cls, _Fitted):
        return cls._from_artifact_state(params, state)
    obj = cls(**params)
    obj._validate_params()
    if issubclass(cls, FeatureHasher):
        return obj
    names = state.pop("feature_names_in_", None)
    width = state.pop("n_features_in_", None)
    if not isinstance(width, int) or width < 0:
        raise ArtifactError(f"not a valid artifact: {cls.__name__} has no input width")
    if names is not None and (
        not isinstance(names, np.ndarray) or names.shape != (width,)
        or not all(isinstance(n, str) for n in names)
    ):  # fmt: skip
        raise ArtifactError(f"not a valid artifact: {cls.__name__} has malformed column names")
    if issubclass(cls, _Encoder) or (issubclass(cls, SimpleImputer) and "counts" in state):
        counts = _counts_of(state.pop("counts", None) or {}, not issubclass(cls, _Encoder))
        if state or counts.n_features != width:
            raise ArtifactError(f"not a valid artifact: malformed {cls.__name__} state")
        names = None if names is None else list(names)
        if issubclass(cls, SimpleImputer):
            return obj._commit_strings(counts, names)
        return obj._commit(counts, names)
    for key, value in state.items():
        setattr(obj, key, value)
    obj.n_features_in_ = width
    if names is not None:
        obj.feature_names_in_ = names
    obj._state_keys = tuple(state) + tuple(obj._derived_state)
    obj.accumulator_ = None
    obj._restored()
    _check_numeric_state(obj)
    return obj


#: Fitted arrays with one value per input column.
_PER_COLUMN = (
    "mean_", "var_", "scale_", "center_", "min_", "data_min_", "data_max_", "data_range_",
    "max_abs_", "lambdas_", "statistics_", "n_bins_", "bin_edges_", "_mean", "_scale",
)  # fmt: skip
#: Fitted arrays that divide: finite and non-zero.
_DIVISORS = ("scale_", "_scale")


def _check_numeric_state(obj) -> None:
    name, width = type(obj).__name__, obj.n_features_in_

    def refuse(what: str):
        raise ArtifactError(f"invalid fitted state of {name}: {what}")

    for key in obj._state_keys:
        value = getattr(obj, key)
        if key in _PER_COLUMN and value is not None:
            if not isinstance(value, np.ndarray) or value.shape != (width,):
                refuse(f"{key} must have one value per column ({width})")
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            if np.isinf(value).any():
                refuse(f"{key} holds infinity")
            if key in _DIVISORS and (np.isnan(value).any() or (value == 0).any()):
                refuse(f"{key} holds NaN or zero")
    if "bin_edges_" in obj._state_keys:
        for j, edges in enumerate(obj.bin_edges_):
            edges = np.asarray(edges, dtype=np.float64)
            if edges.ndim != 1 or edges.size < 2 or np.isnan(edges).any():
                refuse(f"bin_edges_[{j}] is not an array of at least 2 numbers")
            if np.any(np.diff(edges) <= 0):
                refuse(f"bin_edges_[{j}] is not sorted (strictly increasing)")
            if int(obj.n_bins_[j]) != edges.size - 1:
                refuse(f"n_bins_[{j}] does not match bin_edges_[{j}]")
    if "quantiles_" in obj._state_keys:
        q, refs = obj.quantiles_, obj.references_
        if q.ndim != 2 or q.shape[1] != width or refs.shape != (q.shape[0],):
            refuse("quantiles_ and references_ have mismatched shapes")
        if np.isnan(q).any() or np.any(np.diff(q, axis=0) < 0):
            refuse("quantiles_ are not sorted")
        if np.any(np.diff(refs) <= 0) or refs[0] < 0 or refs[-1] > 1:
            refuse("references_ are not increasing within [0, 1]")


def _decode(node: Any, r: _Reader, where: str):
    if not isinstance(node, dict) or not isinstance(node.get("kind"), str):
        raise ArtifactError(f"not a valid artifact: malformed object at {where or 'the root'}")
    kind = node["kind"]
    cls = _kinds().get(kind)
    if cls is None:
        raise ArtifactError(
            f"unknown transform kind {kind!r} at {where or 'the root'}: it is not one of "
            "fastprep's (an artifact from a newer fastprep? upgrade fastprep)"
        )
    params = r.value(node.get("params", {}))
    state = node.get("state", {})
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise ArtifactError(f"not a valid artifact: malformed {kind} at {where or 'the root'}")
    for key in state:
        if not _STATE_NAME.match(key) or hasattr(cls, key):
            raise ArtifactError(f"not a valid artifact: {kind} has no fitted attribute {key!r}")
    state = {k: r.value(v) for k, v in state.items()}
    try:
        if "parts" in node:
            parts = node["parts"]
            if not isinstance(parts, list):
                raise ArtifactError(f"not a valid artifact: malformed {kind}")
            built = []
            for i, part in enumerate(parts):
                if not isinstance(part, dict) or not isinstance(part.get("name"), str):
                    raise ArtifactError(f"not a valid artifact: malformed part {i} of {kind}")
                step = part.get("step")
                if step is None:
                    step = _decode(part.get("node"), r, f"{where}{part['name']}/")
                elif step not in ("drop", "passthrough"):
                    raise ArtifactError(f"not a valid artifact: unknown step {step!r}")
                built.append((part["name"], step, part.get("columns")))
            return _restore(cls, params, state, built)
        return _restore(cls, params, state, None)
    except ArtifactError:
        raise
    except (FastprepError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise ArtifactError(
            f"invalid fitted state of {kind} at {where or 'the root'}: {exc}"
        ) from None


# -- the compiled plan, for readers without Python ---------------------------------------------


def _plan(obj, w: _Writer) -> dict | None:
    """The compiled plan's spec as data (``fastprep_core::plan::spec`` reads it), or None
    when ``obj`` has none (a step the plan does not cover: Python readers only)."""
    spec = _front(obj)._plan_spec() if hasattr(_front(obj), "_plan_spec") else None
    return None if spec is None else _spec_value(spec, "plan", w)


def _spec_value(v: Any, name: str, w: _Writer) -> Any:
    """A plan spec's value in the manifest: arrays by the name of their tensor, non-finite
    numbers tagged; a prebuilt lookup index (``"index"``) is not data and is left out."""
    if isinstance(v, dict):
        return {k: _spec_value(x, f"{name}/{k}", w) for k, x in v.items() if k != "index"}
    if isinstance(v, (list, tuple)):
        return [_spec_value(x, f"{name}/{i}", w) for i, x in enumerate(v)]
    if isinstance(v, np.ndarray):
        return w.tensor(name, v)
    return w.value(v, name)


# -- the drift reference (fastprep.drift) ----------------------------------------------------


def _drift(obj, w: _Writer) -> list | None:
    """The input columns' drift reference, or None (single transforms keep none)."""
    reference = getattr(_front(obj), "drift_reference_", None)
    if reference is None:
        return None
    out = []
    for name, ref in reference.columns.items():
        path = f"drift/{name}"
        entry: dict[str, Any] = {"name": name, "type": ref.type, "rows": int(ref.rows),
                                 "missing": int(ref.missing),
                                 "counts": w.tensor(path + ".counts", ref.counts)}  # fmt: skip
        if ref.type == "numeric":
            entry["edges"] = w.tensor(path + ".edges", np.asarray(ref.edges, dtype=np.float64))
            entry["groups"] = w.tensor(path + ".groups", np.asarray(ref.groups, dtype=np.int64))
        else:
            core, values, offsets = ref.vocab
            entry.update(kind=ref.kind, core=core, values=w.tensor(path + ".values", values))
            if offsets is not None:
                entry["offsets"] = w.tensor(path + ".offsets", offsets)
        out.append(entry)
    return out


def _drift_of(entries: Any, r: _Reader):
    """A DriftReference from the manifest, validated (what monitors rely on)."""
    from fastprep.accumulators import CORE_KIND
    from fastprep.drift import COARSE_BINS, ColumnReference, DriftReference

    if not isinstance(entries, list):
        raise ArtifactError("not a valid artifact: malformed drift reference")
    columns = {}
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            raise ArtifactError("not a valid artifact: malformed drift reference")
        name, rows, missing = e["name"], e.get("rows"), e.get("missing")
        counts = r.tensor(e.get("counts"))
        ok = isinstance(rows, int) and isinstance(missing, int) and 0 <= missing <= rows
        ok = ok and counts.dtype == np.int64 and counts.ndim == 1 and not (counts < 0).any()
        if e.get("type") == "numeric" and ok:
            edges, groups = r.tensor(e.get("edges")), r.tensor(e.get("groups"))
            ok = (
                edges.dtype == np.float64
                and edges.ndim == 1
                and np.isfinite(edges).all()
                and not (np.diff(edges) <= 0).any()
                and counts.size == edges.size + 1
                and groups.shape == counts.shape
                and groups.dtype == np.int64
                and not ((groups < 0) | (groups >= COARSE_BINS)).any()
            )
            if ok:
                columns[name] = ColumnReference(
                    name, "numeric", rows, missing, counts, edges=edges, groups=groups
                )
        elif e.get("type") == "categorical" and ok:
            kind, core = e.get("kind"), e.get("core")
            ok = kind in CORE_KIND and CORE_KIND[kind] == core
            if ok:
                offsets = r.tensor(e["offsets"]) if "offsets" in e else None
                ref = ColumnReference(name, "categorical", rows, missing, counts, kind=kind,
                                      vocab=(core, r.tensor(e.get("values")), offsets))  # fmt: skip
                try:
                    ok = len(ref.index()) == counts.size  # checks sorted, distinct, offsets
                except (FastprepError, ValueError, TypeError):
                    ok = False
                columns[name] = ref
        else:
            ok = False
        if not ok:
            raise ArtifactError(f"invalid drift reference of column {name!r}")
    return DriftReference(columns)


# -- the training profile --------------------------------------------------------------------


def _front(obj):
    """What reads a bundle's input: its first part (the preprocessing)."""
    from fastprep.postprocess import Bundle

    return next(iter(obj.parts.values())) if isinstance(obj, Bundle) else obj


def _profile(obj) -> dict:
    """Rows seen and per input column what fit saw (see ``_step_profile``)."""
    kept = getattr(obj, "_loaded_profile", None)
    if kept is not None:
        return kept
    obj = _front(obj)
    kept = getattr(obj, "_loaded_profile", None)
    if kept is not None:
        return kept
    columns: dict[str, Any] = {}
    rows = None
    for names, step in _input_steps(obj):
        stats = _step_profile(step, names)
        if stats is None:
            continue
        n, per_column = stats
        rows = n if rows is None else max(rows, n)
        columns.update(per_column)
    return {"rows": rows, "columns": columns}


def _input_steps(obj):
    """(input column names, the first fitted step that reads them) of ``obj``."""
    from fastprep.compose import ColumnTransformer, Pipeline

    if isinstance(obj, ColumnTransformer):
        for _, step, cols in obj.transformers_:
            if not isinstance(step, str):
                yield from ((list(cols), s) for _, s in _input_steps(step))
        return
    if isinstance(obj, Pipeline):
        active = obj._active()
        if active:
            names = getattr(obj, "feature_names_in_", None)
            first = active[0][1]
            if isinstance(first, (Pipeline, ColumnTransformer)):
                yield from _input_steps(first)
            else:
                yield (None if names is None else list(names)), first
        return
    yield getattr(obj, "feature_names_in_", None), obj


def _top(values: np.ndarray, counts: np.ndarray, k: int = 10) -> list:
    order = np.argsort(-counts, kind="stable")[:k]
    return [[_plain(values[i]), int(counts[i])] for i in order]


def _plain(v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def _step_profile(step, names) -> tuple[int, dict] | None:
    from fastprep.accumulators import CategoryCounts, FitAccumulator

    acc = getattr(step, "accumulator_", None)
    width = getattr(step, "n_features_in_", 0)
    labels = [str(n) for n in names] if names is not None else [f"x{j}" for j in range(width)]
    if isinstance(acc, FitAccumulator):
        m = acc.moments
        out = {}
        for j, name in enumerate(labels[: len(m.count)]):
            out[name] = {
                "type": "numeric",
                "count": int(m.count[j]),
                "missing": int(m.nan_count[j]),
                "min": _plain(m.min[j]),
                "max": _plain(m.max[j]),
                "mean": _plain(m.mean[j]),
                "std": _plain(math.sqrt(m.m2[j] / m.count[j]) if m.count[j] else math.nan),
            }
        rows = int(m.count[0] + m.nan_count[0]) if len(m.count) else 0
        return rows, out
    if isinstance(acc, CategoryCounts):
        from fastprep.accumulators import decode_values

        out = {}
        for name, kind, counted in zip(labels, acc.kinds, acc.columns, strict=False):
            counts = np.asarray(counted[3], dtype=np.int64)
            top = np.argsort(-counts, kind="stable")[:10]
            values = decode_values(kind, counted)  # only the top ones are kept
            out[name] = {
                "type": "categorical",
                "count": int(counts.sum()),
                "missing": int(counted[4]),
                "categories": len(counts),
                "most_frequent": _top(values[top], counts[top]),
            }
        return acc.n_rows, out
    return None


# -- the file ---------------------------------------------------------------------------------


def _manifest(obj, metadata) -> tuple[dict, dict[str, np.ndarray]]:
    import fastprep

    if metadata is not None and not isinstance(metadata, dict):
        raise ArtifactError("metadata must be a dict of JSON values")
    try:
        json.dumps(metadata, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"metadata must be JSON (no NaN): {exc}") from None
    w = _Writer()
    root = _encode(obj, "", w)
    manifest = {
        "format_version": FORMAT_VERSION,
        "min_reader_version": MIN_READER_VERSION,
        "fastprep_version": fastprep.__version__,
        "kind": type(obj).__name__,
        "fingerprint": obj.fingerprint,
        "inputs": _inputs(obj),
        "outputs": _outputs(obj),
        "metadata": metadata or {},
        "profile": _profile(obj),
        "root": root,
        "plan": _plan(obj, w),
        "drift": _drift(obj, w),
    }
    return manifest, w.tensors


def _inputs(obj) -> list[dict]:
    obj = _front(obj)
    names = getattr(obj, "feature_names_in_", None)
    width = getattr(obj, "n_features_in_", None)
    kinds = getattr(obj, "_kinds", {})
    if names is None:
        return [{"name": f"x{j}", "type": "numeric"} for j in range(width or 0)]
    return [
        {
            "name": str(n),
            "type": "numeric" if kinds.get(str(n), "numeric") == "numeric" else "categorical",
        }
        for n in names
    ]


def _outputs(obj) -> int | None:
    obj = _front(obj)
    try:
        return len(obj.get_feature_names_out())
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
        entries.append((name, _NUMPY_TO_DTYPE[a.dtype.str], list(a.shape), position,
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
    reader rebuilds, nor the drift reference's until it is used): the Adult pipeline reads
    36 of its 69."""

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


def _read(buffer, verify: bool = True) -> tuple[dict, _Tensors]:
    manifest_text, start, entries = _check(buffer, verify)
    return json.loads(manifest_text), _Tensors(buffer, start, entries)


def _build(manifest: dict, tensors: _Tensors):
    reader = _Reader(tensors)
    obj = _decode(manifest.get("root"), reader, "")
    drift = manifest.get("drift")
    if drift is not None:
        front = _front(obj)
        if not hasattr(front, "_check_fitted") or not hasattr(front, "_kinds"):
            raise ArtifactError("not a valid artifact: a drift reference without a pipeline")
        front._drift_source = (drift, reader)  # built and checked on first use
    profile = manifest.get("profile")
    if isinstance(profile, dict):
        obj._loaded_profile = profile
    return obj


def loads(data) -> Any:
    """The fitted object of an artifact held in memory (bytes, bytearray, memoryview)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ArtifactError(f"loads takes bytes, got {type(data).__name__}")
    return _load(data)


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


#: Artifacts smaller than this are read into memory rather than mapped: a mapping and its
#: page faults cost more than copying a few pages (a 40 KB pipeline loads 7% faster).
_MAP_BYTES = 1 << 20


#: Where the system has it, a mapping's pages are entered in one call rather than faulted in
#: one by one as the digest and the lookup tables first read them (a 36 MB artifact loaded
#: about 1 ms faster).
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


def _mapped(path) -> mmap.mmap | bytes:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _MAP_BYTES:
            return f.read()
        if _POPULATE:
            flags = mmap.MAP_SHARED | _POPULATE
            return mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def load(path) -> Any:
    """The fitted object saved at ``path``. A file of 1 MiB or more is memory-mapped (arrays
    are views of it where the state allows; replace artifacts by renaming, never by rewriting
    in place), a smaller one is read. Its digest and format version are checked and its fitted
    state validated: anything wrong raises ArtifactError."""
    return _load(_mapped(path))


def inspect(path) -> dict:
    """What the artifact at ``path`` holds, without building it: its manifest (format and
    fastprep versions, kind, fingerprint, inputs, user metadata, training profile, structure)
    plus ``size`` in bytes and ``arrays``, the name, dtype and shape of each array. The digest
    is checked."""
    return _inspect(_mapped(path))


def inspect_bytes(data) -> dict:
    """``inspect`` of an artifact held in memory."""
    return _inspect(data)


def _inspect(buffer) -> dict:
    manifest_text, _, entries = _check(buffer)
    manifest = json.loads(manifest_text)
    manifest["size"] = len(buffer)
    manifest["arrays"] = [{"name": n, "dtype": d, "shape": s} for n, d, s, _, _ in sorted(entries)]
    return manifest
