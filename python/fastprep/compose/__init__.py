"""Composition: Pipeline and ColumnTransformer (fitted transforms composed, with
scikit-learn's semantics) and Bundle (fitted objects saved as one artifact).

Input of ``fit`` / ``partial_fit`` / ``transform``: a ``dict`` of columns, a 2-D NumPy array
(columns by position, named ``x0, x1, ...``), a pyarrow ``Table`` or ``RecordBatch``, or any
object with ``__arrow_c_stream__`` (pandas, polars, DuckDB), mixing numeric and string columns,
with nulls. Request-response services call ``transform_one(row)`` and
``transform_records(rows)`` with plain Python values: the result equals ``transform`` of the
same rows, bit for bit, because it is the same computation on a one-row (or n-row) table.

Numeric steps receive a float64 matrix of their columns (Arrow nulls and None become NaN);
categorical steps (the encoders, ``FeatureHasher``) receive their columns as they are, so
strings stay in Arrow buffers. Every step computes in float64; ``transform(..., dtype=
np.float32)`` rounds the final output once. Steps that are not fastprep's (scikit-learn's
``FunctionTransformer``, a prototype with ``fit`` / ``transform``) work too, at Python speed:
they receive a float64 matrix when their columns are numeric, else an object array.

Columns: at ``transform``, named inputs are selected by name; columns not used by any
transformer are ignored (also under ``remainder="passthrough"``, which passes through the
columns that were unused at fit); a missing column is a ``SchemaError`` naming it.
"""

from fastprep.compose.bundle import Bundle
from fastprep.compose.column_transformer import ColumnTransformer
from fastprep.compose.pipeline import Pipeline

__all__ = ["Bundle", "ColumnTransformer", "Pipeline"]
