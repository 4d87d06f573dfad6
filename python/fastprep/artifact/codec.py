"""The value codec of artifacts: parameters and fitted values as JSON, arrays as tensors.

A value is written as JSON where JSON holds it exactly; anything else is tagged: ``{"$float":
"nan" | "inf" | "-inf"}``, ``{"$tuple": [...]}``, ``{"$dict": {...}}`` (a dict whose keys start
with ``$``), ``{"$dtype": name}``, ``{"$array": tensor}``, ``{"$strings": tensor, "offsets":
tensor, "missing": tensor, "shape": [...], "unicode": dtype}`` (strings as UTF-8 bytes plus
int64 offsets; None and NaN marked) and ``{"$objects": [...], "shape": [...]}``. Reading
builds only NumPy arrays (read-only views of the file) and plain values: never code.

A state (``fastprep._state.State``) is written as a node ``{"kind", "params", "state",
"parts": [{"name", "columns", "step" | "node"}]}``; ``decode_state`` reads it back, checking
its structure, not its meaning (the kind's ``_from_state`` checks that).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import numbers
import re
from typing import Any

import numpy as np

from fastprep._state import Part, State
from fastprep.exceptions import ArtifactError
from fastprep.reference.artifact import DTYPES

__all__ = ["MAX_DEPTH", "Reader", "Writer", "decode_state", "encode_state", "spec_value"]

#: How deep values and parts may nest in a manifest.
MAX_DEPTH = 64

NUMPY_TO_DTYPE = {np.dtype(v[0]).str: k for k, v in DTYPES.items()}
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
_UNSAFE = re.compile(r"[^A-Za-z0-9_./-]")


class Writer:
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
        if a.dtype.str not in NUMPY_TO_DTYPE:
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.dtype.str not in NUMPY_TO_DTYPE:
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
            if v.dtype.kind == "U":  # NumPy strings: as strings, of the width they need
                items = v.ravel().tolist()
                width = max((len(s) for s in items), default=0)
                ref = self.strings(name, items)
                return {**ref, "shape": list(v.shape), "unicode": f"<U{max(width, 1)}"}
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


class Reader:
    """Decodes JSON values, resolving tensor references into read-only arrays."""

    def __init__(self, tensors) -> None:
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

    def value(self, v: Any, depth: int = 0) -> Any:
        if v is None or type(v) in _PLAIN:
            return v
        if depth > MAX_DEPTH:
            raise ArtifactError("not a valid artifact: values nest too deep")
        deeper = depth + 1
        # Most items are plain values (parameters, names, counts): no call for those.
        if type(v) is list:
            return [x if x is None or type(x) in _PLAIN else self.value(x, deeper) for x in v]
        if not isinstance(v, dict):
            raise ArtifactError(f"not a valid artifact: unexpected value {v!r:.80}")
        if len(v) == 1 and "$array" in v:  # most tagged values: straight to the array
            return self.tensor(v["$array"])
        tags = [k for k in v if k.startswith("$")]
        if not tags:
            return {
                k: x if x is None or type(x) in _PLAIN else self.value(x, deeper)
                for k, x in v.items()
            }
        if len(tags) > 1:
            raise ArtifactError(f"not a valid artifact: value with tags {tags}")
        tag = tags[0]
        body = v[tag]
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$tuple" and isinstance(body, list):
            return tuple(self.value(x, deeper) for x in body)
        if tag == "$dict" and isinstance(body, dict):
            return {k: self.value(x, deeper) for k, x in body.items()}
        if tag == "$dtype" and body in _DTYPE_NAMES:
            return {"object": object, "str": str}.get(body) or np.dtype(body).type
        if tag == "$array":
            return self.tensor(body)
        if tag in ("$strings", "$objects"):
            shape = v.get("shape")
            if tag == "$strings":
                items = self.strings(v)
            elif isinstance(body, list):
                items = [self.value(x, deeper) for x in body]
            else:
                raise ArtifactError("not a valid artifact: malformed object array")
            if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
            ):
                raise ArtifactError("not a valid artifact: malformed object array")
            out = np.empty(len(items), dtype=object)
            out[:] = items
            unicode = v.get("unicode")
            if unicode is not None:
                out = out.astype(self._unicode(unicode, items))
            try:
                return out.reshape(shape)
            except (TypeError, ValueError):
                raise ArtifactError("not a valid artifact: malformed object array") from None
        raise ArtifactError(f"not a valid artifact: unknown value tag {tag!r}")

    @staticmethod
    def _unicode(dtype: Any, items: list) -> str:
        """A NumPy string dtype as saved: never wider than its longest string (a declared
        width cannot make a load allocate more than the strings need)."""
        match = re.fullmatch(r"[<>|]U([0-9]{1,9})", dtype) if isinstance(dtype, str) else None
        longest = max((len(s) for s in items if isinstance(s, str)), default=0)
        if match is None or int(match.group(1)) > max(longest, 1):
            raise ArtifactError("not a valid artifact: malformed string dtype")
        return dtype


# -- states --------------------------------------------------------------------------------------


def encode_state(state: State, path: str, w: Writer) -> dict:
    """A state as a manifest node (arrays to ``w``'s tensors, named after ``path``)."""
    node: dict[str, Any] = {"kind": state.kind, "params": w.value(state.params, f"{path}params")}
    if state.parts is not None:
        node["parts"] = [
            {
                "name": p.name,
                "columns": p.columns,
                **(
                    {"step": p.state}
                    if isinstance(p.state, str)
                    else {"node": encode_state(p.state, f"{path}{p.name}/", w)}
                ),
            }
            for p in state.parts
        ]
    node["state"] = {k: w.value(v, f"{path}{k}") for k, v in state.values.items()}
    return node


def decode_state(node: Any, r: Reader, where: str = "", depth: int = 0) -> State:
    """The state of a manifest node, its structure checked (the kind checks its meaning)."""
    at = where or "the root"
    if depth > MAX_DEPTH:
        raise ArtifactError(f"not a valid artifact: objects nest too deep at {at}")
    if not isinstance(node, dict) or not isinstance(node.get("kind"), str):
        raise ArtifactError(f"not a valid artifact: malformed object at {at}")
    kind = node["kind"]
    params = r.value(node.get("params", {}))
    values = node.get("state", {})
    if not isinstance(params, dict) or not isinstance(values, dict):
        raise ArtifactError(f"not a valid artifact: malformed {kind} at {at}")
    values = {k: r.value(v) for k, v in values.items()}
    parts = None
    if "parts" in node:
        raw = node["parts"]
        if not isinstance(raw, list):
            raise ArtifactError(f"not a valid artifact: malformed {kind} at {at}")
        parts = []
        for i, part in enumerate(raw):
            if not isinstance(part, dict) or not isinstance(part.get("name"), str):
                raise ArtifactError(f"not a valid artifact: malformed part {i} of {kind}")
            columns = part.get("columns")
            if columns is not None and not (
                isinstance(columns, list) and all(isinstance(c, str) for c in columns)
            ):
                raise ArtifactError(f"not a valid artifact: malformed columns of part {i}")
            step = part.get("step")
            if step is None:
                sub = f"{where}{part['name']}/"
                step = decode_state(part.get("node"), r, sub, depth + 1)
            elif step not in ("drop", "passthrough"):
                raise ArtifactError(f"not a valid artifact: unknown step {step!r}")
            parts.append(Part(part["name"], step, columns))
        parts = tuple(parts)
    return State(kind, params, values, parts)


def spec_value(v: Any, name: str, w: Writer) -> Any:
    """A spec's value (a compiled plan's, a drift reference's) in the manifest: arrays by the
    name of their tensor, non-finite numbers tagged; a prebuilt lookup index (``"index"``) is
    not data and is left out."""
    if isinstance(v, dict):
        return {k: spec_value(x, f"{name}/{k}", w) for k, x in v.items() if k != "index"}
    if isinstance(v, (list, tuple)):
        return [spec_value(x, f"{name}/{i}", w) for i, x in enumerate(v)]
    if isinstance(v, np.ndarray):
        return w.tensor(name, v)
    return w.value(v, name)
