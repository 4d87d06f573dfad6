"""The compiled plan's spec: a fitted composition described once, by named fields, as data.

Each step describes its own part (``_plan_part``): a numeric step gives its kernel's fields
(``{"steps": [{"step": "sub_div", "sub": ..., "div": ...}]}``), an encoder its lookup block
and what its inputs refuse (``{"block": {...}, "inputs": [{"kind", "refuse_unknown",
"refuse_missing"}]}``), a Pipeline the chain of its steps. ``spec`` puts the parts side by side;
the Rust core (``fastprep_core::plan::spec``) is the one reader and validator of the result,
whether Python hands it over (``fastprep._core.Plan``) or an artifact stores it for a Rust
service. Building a spec needs no compiled core: an artifact saved in pure-Python mode holds
the plan too.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def floats(values) -> np.ndarray:
    """An array field of a spec: float64, C order."""
    return np.ascontiguousarray(values, dtype=np.float64)


def part_of(step) -> dict | None:
    """The plan part of a step (None: it has no native form). Only fastprep's own classes
    compile: a step defined elsewhere (a subclass too) may compute something else."""
    if step == "passthrough":
        return {"steps": []}
    describe = getattr(step, "_plan_part", None)
    if describe is None or type(step).__module__.split(".")[0] != "fastprep":
        return None
    return describe()


def spec(parts, width: int, sparse: bool = False) -> dict[str, Any] | None:
    """The spec of ``(step, column names)`` parts writing ``width`` columns side by side, or
    None when a part has no native form."""
    inputs: list[dict] = []
    blocks: list[dict] = []
    for step, columns in parts:
        part = part_of(step)
        if part is None:
            return None
        first = len(inputs)
        if "steps" in part:
            inputs.extend({"name": str(c), "kind": "numeric"} for c in columns)
            positions = list(range(first, len(inputs)))
            blocks.append({"block": "numeric", "inputs": positions, "steps": part["steps"]})
            continue
        described = part["inputs"]
        if len(described) != len(columns):
            return None
        inputs.extend({"name": str(c), **d} for c, d in zip(columns, described, strict=True))
        blocks.append({**part["block"], "inputs": list(range(first, len(inputs)))})
    return {"inputs": inputs, "blocks": blocks, "width": int(width), "sparse": bool(sparse)}
