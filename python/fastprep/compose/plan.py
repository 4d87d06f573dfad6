"""The compiled plan of a composition: its spec (``fastprep._plan``) parsed by the Rust core,
with what feeding it a batch or a request row needs."""

from __future__ import annotations

import numpy as np

from fastprep import _backend
from fastprep._input import Frame, categorical_column, coerce, float_column
from fastprep._output import csr
from fastprep.exceptions import FastprepError


class CompiledPlan:
    """A composition's native plan (``fastprep._plan`` describes it) with what feeding it
    needs: each input's column and how it is read, and each lookup's column and vocabulary
    (for the drift monitors' tallies)."""

    def __init__(self, spec: dict, plan):
        self.spec = spec  # what an artifact stores, so that a Rust service builds the same plan
        self.plan = plan  # fastprep._core.Plan, or None without the compiled core
        self.sparse = bool(spec["sparse"])
        self.inputs = [(i["name"], i["kind"]) for i in spec["inputs"]]
        lookups = [b for b in spec["blocks"] if b["block"] != "numeric"]
        self.lookups = [
            (
                spec["inputs"][p]["name"],
                (v["kind"], v.get("data", v.get("values")), v.get("offsets")),
            )
            for b in lookups
            for p, v in zip(b["inputs"], b["vocabs"], strict=True)
        ]

    def _inputs(self, frame: Frame, owner: str) -> list | None:
        inputs = []
        try:
            for name, kind in self.inputs:
                col = frame.columns.get(name)
                if col is None:
                    return None
                if kind == "numeric":
                    values = float_column(col, name, owner)
                    inputs.append(np.ascontiguousarray(values, dtype=np.float64))
                else:
                    column = categorical_column(col, f"column {name!r}")
                    if column.kind != kind:
                        column = coerce(column, kind, f"column {name!r}")
                    inputs.append(column.chunks)
        except FastprepError:
            return None  # the step-by-step path raises the error, worded as it words it
        return inputs

    def run_frame(self, frame: Frame, float32: bool, owner: str, tally: bool = False):
        """The plan's output for a batch, or None when the step-by-step path must run (an
        input it cannot read, a value an encoder refuses). With ``tally``: ``(out, tallies)``,
        ``tallies`` mapping the name of each input column an encoder looks up to
        ``(vocabulary, counts of its lookup codes)`` (dense output only; None for sparse)."""
        inputs = self._inputs(frame, owner)
        if inputs is None:
            return None
        if self.sparse:
            ran = self.plan.run_csr(inputs, frame.rows)
            if ran is None:
                return None
            indptr, indices, values = ran
            data = values.astype(np.float32) if float32 else values
            matrix = csr(data, indices, indptr, (frame.rows, self.plan.width))
            return (matrix, None) if tally else matrix
        if not tally:
            return self.plan.run(inputs, frame.rows, float32)
        ran = self.plan.run_tallied(inputs, frame.rows, float32)
        if ran is None:
            return None
        out, counts = ran
        # The lookups read the raw column (an imputer before the encoder is folded into its
        # table), so the codes are the column's own categories, missing included.
        tallies = {
            name: (vocab, c)
            for (name, vocab), c in zip(self.lookups, counts, strict=True)
            if c is not None
        }
        return out, tallies

    def run_frame_model(self, frame: Frame, owner: str, coef, intercept, link, log: bool):
        """A linear model's scores (``link`` None) or probabilities for a batch, computed
        after the plan's features block by block; None as ``run_frame``."""
        if self.sparse:
            return None
        inputs = self._inputs(frame, owner)
        if inputs is None:
            return None
        return self.plan.run_model(inputs, frame.rows, coef, intercept, link, log)

    def run_row(self, row: dict, float32: bool):
        """One request row's output (1-D), or None when the batch path must run it."""
        if self.sparse:
            return None  # a request row of a sparse transformer takes the batch path
        try:
            return self.plan.run_row(row, float32)
        except FastprepError:
            return None


def _vocab_tuple(v: dict) -> tuple:
    """A spec's vocabulary as ``(core kind, values, offsets)``, an encoder's own form."""
    if v["kind"] == "str":
        return ("str", v["data"], v["offsets"])
    return (v["kind"], v["values"], None)


def compile_spec(spec: dict | None) -> CompiledPlan | None:
    """The compiled plan of a spec (None without one). Without the compiled core the plan is
    data only: saved in artifacts, run by readers that have a core."""
    if spec is None:
        return None
    plan = None
    core = _backend._core
    if core is not None:
        try:
            plan = core.Plan(spec)
        except FastprepError:
            return None
    return CompiledPlan(spec, plan)
