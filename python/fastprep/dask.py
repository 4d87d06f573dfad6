"""Fit and transform on Dask: the data stays on the cluster, fastprep runs where it is.

``fit(estimator, ddf)`` fits in stages: each stage maps over the partitions, where every part
the stage fits (a transform, an encoder, a composition's drift profile) is fitted on its
input, and reduces the fits with ``merge`` in an order-preserving tree (``split_every`` fits
at a time); the merged parts go back in place on the client. A transform or a composition of
independent parts takes one stage; a pipeline step that reads another step's output waits for
that step's stage, as the in-memory fit does. Fits that are exact (moments, counts,
categories, order statistics within the exact budget) give the same fitted state, bit for bit,
whatever the partitioning and ``split_every``: the fingerprint equals the in-memory fit's.

``transform(fitted, ddf)`` maps the fitted object's answers (features, or a model pipeline's
predictions) over the partitions, as a Dask DataFrame with the feature names as columns. The
artifact's bytes are one key of the graph: each worker reads them once and keeps the object.

Parts travel between workers as pickles of their attributes, accumulators included, within
the cluster; nothing is pickled to storage. ``pip install "fastprep[dask]"``; dask is imported
when a function here is called.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from typing import Any

from fastprep._answers import answers
from fastprep._base import Fitted, _rebuilt
from fastprep.artifact import dumps, loads
from fastprep.exceptions import ParameterError

__all__ = ["fit", "transform"]

#: Rows of the first partition the client reads to lay out each stage (column names and
#: kinds, the inputs of nested compositions).
SAMPLE_ROWS = 64


class _Shipped:
    """A part's fit as it travels: a fastprep object pickles its attributes (its accumulator
    included, which its artifact leaves out); the other parts pickle as they are."""

    def __init__(self, part):
        self.part = part

    def __reduce__(self):
        part = self.part
        if isinstance(part, Fitted):
            return (_arrived, (type(part), part._picklable_attributes()))
        return (_Shipped, (part,))


def _arrived(cls, attributes) -> _Shipped:
    """A fastprep object rebuilt from its attributes (``_Shipped``'s other half)."""
    return _Shipped(_rebuilt(cls, attributes))


def _fit_partition(template: _Shipped, X, y, stage: int) -> dict[str, _Shipped]:
    """The fits of ``stage``'s parts on one partition."""
    out = {}
    for path, part, data in template.part._stage_parts(X, stage, ""):
        if isinstance(part, Fitted):
            part = copy.deepcopy(part)  # the template is shared by the worker's tasks
            if not hasattr(part, "merge"):
                raise ParameterError(
                    f"{path or type(part).__name__}: {type(part).__name__} cannot be fitted in "
                    "parts (it has no merge)"
                )
        out[path] = _Shipped(part.fit(data, y))
    return out


def _merge(*fits: dict[str, _Shipped]) -> dict[str, _Shipped]:
    """The fits of several runs of partitions, merged part by part in their order."""
    first, *rest = fits
    merged = {path: shipped.part for path, shipped in first.items()}
    for other in rest:
        for path, shipped in other.items():
            merged[path] = merged[path].merge(shipped.part)
    return {path: _Shipped(part) for path, part in merged.items()}


def _tree(items: list, split_every: int, combine):
    """``combine`` over ``items`` in groups of ``split_every``, level after level, keeping the
    order (the first item's rows first)."""
    while len(items) > 1:
        items = [combine(*items[i : i + split_every]) for i in range(0, len(items), split_every)]
    return items[0]


def fit(estimator, ddf, y=None, *, split_every: int = 8):
    """A fitted copy of ``estimator`` (a transform, an encoder, a Pipeline or ColumnTransformer
    of them), fitted on the Dask DataFrame or Array ``ddf`` (and the Dask Series or Array
    ``y``, partitioned alike, where a fit takes one), the argument left unfitted.
    ``split_every``: the fits merged at a time in the reduction tree (2 or more)."""
    import dask

    if not isinstance(split_every, int) or isinstance(split_every, bool) or split_every < 2:
        raise ParameterError(f"split_every must be an int >= 2, got {split_every!r}")
    est = copy.deepcopy(estimator)
    stages = est._stages()
    partitions = ddf.to_delayed()
    if hasattr(partitions, "ravel"):  # a Dask Array: blocks of rows
        partitions = list(partitions.ravel())
    targets = [None] * len(partitions) if y is None else list(_delayed_blocks(y))
    if len(targets) != len(partitions):
        raise ParameterError(
            f"y has {len(targets)} partitions and the data {len(partitions)}: partition them alike"
        )
    sample = _sample(ddf)
    fit_partition = dask.delayed(_fit_partition, pure=True)
    merge = dask.delayed(_merge, pure=True)
    for stage in range(stages):
        est._stage_begin(sample, stage)
        template = dask.delayed(_Shipped(est), pure=False, traverse=False)
        fits = [
            fit_partition(template, p, t, stage) for p, t in zip(partitions, targets, strict=True)
        ]
        (merged,) = dask.compute(_tree(fits, split_every, merge))
        for path, shipped in merged.items():
            if path == "":
                est = shipped.part
            else:
                est._stage_put(path, shipped.part)
    est._stage_end()
    return est


def _delayed_blocks(collection):
    blocks = collection.to_delayed()
    return list(blocks.ravel()) if hasattr(blocks, "ravel") else blocks


def _sample(ddf):
    """The first rows of ``ddf``, computed (what the client lays each stage out with)."""
    head = getattr(ddf, "head", None)
    if head is not None:
        return head(SAMPLE_ROWS, npartitions=-1)
    return ddf[:SAMPLE_ROWS].compute()


# -- transform ----------------------------------------------------------------------------------

_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _fitted(artifact: bytes):
    """The object of ``artifact``, loaded once per process (the last few kept)."""
    key = hashlib.sha256(artifact).hexdigest()
    with _CACHE_LOCK:
        obj = _CACHE.get(key)
        if obj is not None:
            _CACHE.move_to_end(key)
            return obj
    obj = loads(artifact)
    with _CACHE_LOCK:
        _CACHE[key] = obj
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return obj


def _transform_partition(frame, artifact: bytes):
    import pyarrow as pa

    obj = _fitted(artifact)
    schema, answer = answers(obj)
    out = pa.Table.from_arrays(answer(frame), schema=schema).to_pandas()
    out.index = frame.index
    return out


def transform(fitted, ddf):
    """The answers of ``fitted`` on the Dask DataFrame ``ddf``, as a Dask DataFrame (one
    partition per partition, same index): its features named as ``get_feature_names_out``,
    or a model pipeline's ``prediction`` and ``proba_<class>``. The fitted object goes into the
    graph once, as its artifact's bytes."""
    import dask
    import pandas as pd

    fitted._check_fitted()
    schema, _ = answers(fitted)
    meta = pd.DataFrame(
        {f.name: pd.Series(dtype=f.type.to_pandas_dtype()) for f in schema},
    )
    artifact = dask.delayed(dumps(fitted), pure=True)
    return ddf.map_partitions(_transform_partition, artifact, meta=meta)
