"""Bundle: named fitted objects saved as one artifact (the preprocessing and the
postprocessing of one service)."""

from __future__ import annotations

from typing import Any

from fastprep._base import Fitted
from fastprep._state import State, build
from fastprep.compose._composite import part_state
from fastprep.exceptions import ParameterError, SchemaError

__all__ = ["Bundle"]


class Bundle(Fitted):
    """Named fitted objects saved as one artifact: the preprocessing and the postprocessing
    of one service (``Bundle(preprocess=ct, postprocess=post).save(path)``; ``fastprep.load``
    gives the Bundle back; ``bundle["preprocess"]`` or ``bundle.preprocess``). What reads the
    service's input, and whose training profile and drift reference the artifact keeps, is the
    first part."""

    def __init__(self, **parts):
        if not parts:
            raise ParameterError("Bundle: give at least one named part")
        self.parts = dict(parts)

    def __getitem__(self, name: str):
        return self.parts[name]

    def __getattr__(self, name: str):
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={type(v).__name__}" for k, v in self.parts.items())
        return f"Bundle({inner})"

    @property
    def is_fitted(self) -> bool:
        return all(getattr(p, "is_fitted", False) for p in self.parts.values())

    def _named_parts(self) -> list[tuple[str, Any]]:
        return list(self.parts.items())

    def _replace_part(self, name: str, value: Any) -> None:
        self.parts[name] = value

    def _state(self) -> State:
        return State(self._name, {}, {}, tuple(part_state(n, p) for n, p in self.parts.items()))

    @classmethod
    def _from_state(cls, state: State, where: str = "") -> Bundle:
        parts = state.parts
        if state.params or state.values or not parts:
            raise SchemaError("malformed Bundle")
        if any(isinstance(p.state, str) or p.columns is not None for p in parts):
            raise SchemaError("malformed Bundle")
        return cls(**{p.name: build(p.state, f"{where}{p.name}/") for p in parts})

    def _front(self) -> Fitted:
        return next(iter(self.parts.values()))

    def _input_steps(self):
        yield from self._front()._input_steps()
