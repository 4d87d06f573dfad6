"""What Pipeline and ColumnTransformer share: how a step is given its columns, the input record
of a fit, the drift reference, the request-row entry points and the compiled plan."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fastprep import _backend
from fastprep._base import Fitted
from fastprep._input import Frame, object_column
from fastprep._output import is_float32
from fastprep._state import Part, State
from fastprep.drift import DriftReference
from fastprep.exceptions import (
    ArtifactError,
    FastprepError,
    NotFittedError,
    ParameterError,
    SchemaError,
    not_fitted,
)

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

#: What the request path reads on every call, looked up once: the backend override of this
#: thread or task (None: the process default), and the two dtypes.
_backend_here = _backend._override.get
_F32, _F64 = np.float32, np.float64

# -- steps ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def in_step(owner: str, name: str):
    """A fastprep error raised inside the step ``name`` of a composition says so first (the
    path of steps, then the column and the problem, as the step words them)."""
    try:
        yield
    except FastprepError as e:
        if e.args and isinstance(e.args[0], str):  # nested: the outer step comes first
            e.args = (f"in {owner} step {name!r}: {e.args[0]}", *e.args[1:])
        raise


def is_fastprep(step) -> bool:
    return type(step).__module__.split(".")[0] == "fastprep"


def takes_tables(step, frame: Frame | None = None, names=None) -> bool:
    """Whether a step reads its columns as they are (encoders; an imputer of string columns)
    rather than a float matrix."""
    reads = getattr(step, "_reads_tables", None)
    return reads is not None and is_fastprep(step) and reads(frame, names)


def may_be_sparse(step) -> bool:
    """Whether a step may output a sparse matrix (any step that is not fastprep's may)."""
    if isinstance(step, str):
        return False
    if not is_fastprep(step):
        return True
    return step._may_output_sparse()


def step_input(step, frame: Frame, names: list[str], owner: str):
    """What a step receives: a dict of its columns, a float64 matrix, or an object array."""
    if takes_tables(step, frame, names):
        return frame.select(names)
    if is_fastprep(step) or all(frame.is_numeric(n) for n in names):
        return frame.floats(names, owner)
    # A foreign step over non-numeric columns: an object array, as scikit-learn would give it.
    if not names:
        return np.empty((frame.rows, 0), dtype=object)
    return np.column_stack([object_column(frame.columns[n]) for n in names])


def check_steps(steps, owner: str, *, model_last: bool = False) -> None:
    """Refuse malformed steps; with ``model_last``, the last step needs only ``fit`` (a
    model)."""
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ParameterError(f"{owner}: steps must be a non-empty list of (name, transform)")
    names = set()
    for i, item in enumerate(steps):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)):
            raise ParameterError(f"{owner}: each step is a (name, transform) pair, got {item!r}")
        name, step = item
        if name in names:
            raise ParameterError(f"{owner}: step name {name!r} is used twice")
        if "__" in name:
            raise ParameterError(f"{owner}: step name {name!r} must not contain '__'")
        names.add(name)
        if model_last and i == len(steps) - 1 and hasattr(step, "fit"):
            continue
        if step not in ("passthrough", None) and not (
            hasattr(step, "fit") and hasattr(step, "transform")
        ):
            raise ParameterError(f"{owner}: step {name!r} has no fit/transform: {step!r}")


def part_state(name: str, step, columns: list[str] | None = None) -> Part:
    """A part of a composition's state: a fastprep step's own state, or a marker."""
    if isinstance(step, str):
        return Part(name, step, columns)
    if not isinstance(step, Fitted):
        raise ArtifactError(
            f"cannot save or fingerprint a {type(step).__name__} ({name!r}): only fastprep's "
            "objects have a fitted state"
        )
    return Part(name, step._state(), columns)


def foreign_steps(obj, path: str = "") -> list[str]:
    """The steps of a composition (nested ones included) that are not fastprep's, as
    ``path (class)``: what saving it cannot write."""
    found = []
    for name, step in obj._named_parts():
        if step is None or isinstance(step, str):
            continue
        if isinstance(step, Composite):
            found += foreign_steps(step, f"{path}{name}__")
        elif not isinstance(step, Fitted):
            found.append(f"{path}{name} ({type(step).__name__})")
    return found


def stage_path(path: str, name: str) -> str:
    """The path of part ``name`` of the part at ``path`` (``num__scale``)."""
    return f"{path}__{name}" if path else name


class DriftPart:
    """The training profile of a composition's input, as a part fitted in stages: the drift
    accumulators of a batch (``DriftReference._accumulate``), merged across batches."""

    def __init__(self):
        self.accumulated: dict = {}

    def fit(self, frame: Frame, y=None) -> DriftPart:
        self.accumulated = DriftReference._accumulate(frame, None)
        return self

    def merge(self, other: DriftPart) -> DriftPart:
        self.accumulated = DriftReference._merge_accumulated(self.accumulated, other.accumulated)
        return self


class Composite(Fitted, abstract=True):
    """The input record, drift reference and request-row entry points of a composition."""

    _calls_steps = True

    def _state(self):
        foreign = foreign_steps(self)
        model = getattr(self, "_model", lambda: None)()
        if model is not None and not isinstance(model[1], Fitted):
            foreign = foreign[:-1]  # a final model: refused below, with what to save instead
        if foreign:
            raise ArtifactError(
                f"{self._name}: cannot save or fingerprint the steps that are not fastprep's: "
                f"{', '.join(foreign)}; only fastprep's objects have a fitted state"
            )
        return super()._state()

    @property
    def _plan(self):
        """The compiled plan (``fastprep.compose.plan``), or None when a step has no native
        form. Compiled at fit, and on first use after a load: a load builds nothing that its
        stored state does not back."""
        try:
            return self._cache["plan"]
        except (AttributeError, KeyError):
            return self._cached("plan", lambda: self._compile() if self.is_fitted else None)

    @_plan.setter
    def _plan(self, plan) -> None:
        self._forget()
        self._cache["plan"] = plan

    def _compile(self):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]  # the plan computes in float64
        tags.input_tags.string = tags.input_tags.categorical = self._reads_strings_in()
        return tags

    def _reads_strings_in(self) -> bool:
        """Whether a column of strings is an input this composition can read."""
        return True

    @property
    def is_fitted(self) -> bool:
        return bool(getattr(self, "_fitted", False))

    def _plan_spec(self) -> dict | None:
        return None if self._plan is None else self._plan.spec

    # -- the state ----------------------------------------------------------------------------

    def _fitted_values(self) -> dict[str, Any]:
        return {**self._record_values(), "_kinds": dict(self._kinds)}

    def _restore_input(self, values: dict) -> None:
        """The input record of a rebuilt composition (what ``_set_input`` records at fit);
        takes its keys out of ``values``."""
        names = self._restore_record(values)
        kinds = values.pop("_kinds", None)
        if not isinstance(kinds, dict) or any(
            k not in ("numeric", "other") for k in kinds.values()
        ):
            raise SchemaError(f"{self._name}: malformed input record")
        if names is not None and set(kinds) != set(names):
            raise SchemaError(f"{self._name}: column names do not match the column kinds")
        self._kinds = kinds
        self._fitted = True

    @staticmethod
    def _checked(state: State) -> tuple[Part, ...]:
        if state.parts is None:
            raise SchemaError(f"a {state.kind} without its parts")
        return state.parts

    # -- input --------------------------------------------------------------------------------

    def _set_input(self, frame: Frame) -> None:
        """Record what fit saw: the number of columns, their names (named inputs) and kinds."""
        self._set_record(len(frame.names), None if frame.positional else frame.names)
        self._kinds = frame.kinds()
        self._fitted = True

    # -- drift ---------------------------------------------------------------------------------

    def _feed_row(self, row) -> None:
        """Count a transformed request row in the attached drift monitors."""
        for monitor in self.__dict__.get("_drift_monitors", ()):
            monitor.update_row(row)

    def _feed(self, frame: Frame, tallies: dict | None = None) -> None:
        """Count a transformed batch in the attached drift monitors (with the plan's code
        tallies, when it ran)."""
        for monitor in self.__dict__.get("_drift_monitors", ()):
            monitor._add(monitor._count(frame, tallies))

    def _put_drift(self, part: DriftPart) -> None:
        """The drift accumulators a fit in stages merged (as ``_capture_drift`` makes them)."""
        self._drift_acc = part.accumulated
        self.__dict__.pop("_drift_reference", None)
        self.__dict__.pop("_drift_source", None)

    def _capture_drift(self, frame: Frame, partial: bool) -> None:
        """Add the batch to the input columns' training profile (``drift_reference_``, see
        ``fastprep.drift``); ``fit`` starts it over."""
        previous = getattr(self, "_drift_acc", None) if partial else None
        self._drift_acc = DriftReference._accumulate(frame, previous)
        # Derived on first use: a stream of partial_fit calls does not recompute the
        # quantiles of everything held after every batch.
        self.__dict__.pop("_drift_reference", None)
        self.__dict__.pop("_drift_source", None)

    @property
    def drift_reference_(self) -> DriftReference:
        """The input columns' training profile (``fastprep.drift``), built from the fit's
        accumulators on first use; a loaded object builds and checks it from its artifact on
        first use, so loading stays fast."""
        reference = self.__dict__.get("_drift_reference")
        if reference is None and "_drift_source" in self.__dict__:
            reference = DriftReference._from_spec(*self.__dict__.pop("_drift_source"))
            self._drift_reference = reference
        elif reference is None and "_drift_acc" in self.__dict__:
            reference = self._drift_reference = DriftReference._of(self._drift_acc)
        if reference is None:
            raise not_fitted(f"{self._name} has no drift reference: fit it first")
        return reference

    def _loaded(self, profile, drift) -> None:
        if isinstance(profile, dict):
            self._loaded_profile = profile
        if drift is not None:
            self._drift_source = drift  # (entries, tensor): built and checked on first use

    def _drift_spec(self) -> list | None:
        try:
            return self.drift_reference_._spec()
        except NotFittedError:
            return None

    # -- the compiled plan and request rows ------------------------------------------------------

    def _run_native(self, frame: Frame, dtype):
        """``(out, tallies)`` from the compiled plan, ``(None, None)`` when the step-by-step
        path must run. With drift monitors attached, the plan also tallies the lookup codes it
        computes anyway (``tallies``: column name -> (vocabulary, code counts)), so that the
        monitors need not look the categories up again."""
        if not self._runs_native():
            return None, None
        if not self.__dict__.get("_drift_monitors"):
            return self._plan.run_frame(frame, is_float32(dtype), self._name), None
        ran = self._plan.run_frame(frame, is_float32(dtype), self._name, tally=True)
        return (None, None) if ran is None else ran

    def _runs_native(self) -> bool:
        return (
            self._plan is not None
            and self._plan.plan is not None
            and _backend.get_backend() == "rust"
        )

    def _input_names_used(self) -> list[str]:
        raise NotImplementedError

    def transform(self, X, *, dtype: DTypeLike = np.float64):
        raise NotImplementedError

    def transform_one(self, row: Mapping[str, Any], *, dtype: DTypeLike = np.float64) -> np.ndarray:
        """One request row (plain Python values by column name) → a 1-D array, equal to the
        row ``transform`` gives for the same values (dense, also where ``transform`` gives a
        sparse matrix); one native call with a compiled plan."""
        # The request path: one native call, everything else decided when the plan compiled.
        if type(row) is dict:
            out = self._native_rows(0, row, dtype)
            if out is not None:
                return out
        return self._transform_one_slow(row, dtype)

    def _native_rows(self, which: int, data, dtype: DTypeLike, install: bool = True):
        """The plan's answer for one record (``which`` 0) or a list of them (1), or None when
        the methods' own path must run it; feeds attached monitors, else (with ``install``)
        installs the native entries (``_install_row_call``)."""
        try:
            run = self._cache["native_rows"][which]
        except (AttributeError, KeyError):
            run = self._cached("native_rows", self._row_runners)[which]
        if run is None or (_backend_here() or _backend._default) != "rust":
            return None
        float32 = dtype is _F32 or (dtype is not _F64 and is_float32(dtype))
        try:
            out = run(data, float32)
        except SchemaError as e:
            raise SchemaError(f"{self._name}: {e}") from None
        if out is None:
            return None
        if self.__dict__.get("_drift_monitors"):
            for row in (data,) if which == 0 else data:
                self._feed_row(row)
        elif install:
            self._install_row_call()
        return out

    def _install_row_call(self) -> None:
        """From now on, ``self.transform_one`` and ``self.transform_records`` are one native
        call each (``fastprep._core.RowCall.call``, instance attributes found before these methods):
        they take the row path when they can and this object's ``_transform_one_slow`` /
        ``_transform_records_slow`` otherwise. Dropped by a new fit (``_forget``) and by an
        attached drift monitor, whose rows the methods feed."""
        run_row = self._cache["native_rows"][0]  # set by the call that got here
        if "transform_one" in self.__dict__ or run_row is None:
            return
        plan = run_row.__self__  # the compiled core's Plan
        shared = (plan, self._name, np.float64, np.float32, _backend._override.get, _backend)
        core = _backend._core
        # Bound methods: Python passes their arguments in place, a callable object's in a tuple.
        self.__dict__["transform_one"] = core.RowCall(*shared, self._transform_one_slow, False).call
        self.__dict__["transform_records"] = core.RowCall(
            *shared, self._transform_records_slow, True
        ).call

    def _transform_one_slow(self, row: Mapping[str, Any], dtype: DTypeLike) -> np.ndarray:
        """``transform_one`` of a record the row path does not take, by the batch path."""
        self._check_fitted()
        if not isinstance(row, Mapping):
            raise SchemaError(
                f"{self._name}: transform_one takes a mapping of column name to value, got "
                f"{type(row).__name__}"
            )
        names = self._input_names_used()
        if any(n not in row for n in names):
            raise _lacking(self._name, "the record", names, row)
        out = self.transform_records([row], dtype=dtype)
        return out.toarray()[0] if hasattr(out, "toarray") else out[0]

    def _row_runners(self) -> tuple:
        """The compiled plan's calls for one request row and for a list of them, or Nones
        where request rows take another path (not fitted, no native plan, sparse output)."""
        plan = self._plan if self.is_fitted else None
        if plan is None or plan.plan is None or plan.sparse:
            return (None, None)
        return (plan.plan.run_row, plan.plan.run_records)

    def transform_records(
        self, rows: Sequence[Mapping[str, Any]], *, dtype: DTypeLike = np.float64
    ):
        """Request rows (mappings of column name to value) → a 2-D array, equal to
        ``transform`` of the same rows. A missing key is a ``SchemaError`` naming it; None is
        a missing value."""
        if type(rows) in (list, tuple):
            out = self._native_rows(1, rows, dtype)
            if out is not None:
                return out
        return self._transform_records_slow(rows, dtype)

    def _transform_records_slow(self, rows, dtype: DTypeLike) -> np.ndarray:
        """``transform_records`` by the batch path (a table of the records' values)."""
        return self.transform(self._records_frame(rows), dtype=dtype)

    def _records_frame(self, rows) -> Frame:
        """The table of request records' values of the input columns (checked: mappings that
        hold every one)."""
        self._check_fitted()
        if not isinstance(rows, Sequence):
            rows = list(rows)  # any iterable of records
        names = self._input_names_used()
        columns: dict[str, list] = {n: [] for n in names}
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise SchemaError(
                    f"{self._name}: record {i} is a {type(row).__name__}, not a mapping"
                )
            try:
                for n in names:
                    columns[n].append(row[n])
            except KeyError:
                raise _lacking(self._name, f"record {i}", names, row) from None
        return Frame(names, columns, len(rows), positional=False)

    def _input_steps(self) -> Iterator[tuple[list[str] | None, Any]]:
        raise NotImplementedError


def _lacking(owner: str, record: str, names: list[str], row: Mapping) -> SchemaError:
    """The error of a request record without some input columns: all of them named."""
    absent = [n for n in names if n not in row]
    what = "column" if len(absent) == 1 else "columns"
    return SchemaError(f"{owner}: {record} lacks the {what} {', '.join(map(repr, absent))}")
