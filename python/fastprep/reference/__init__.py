"""The NumPy reference kernels: the executable specification of every Rust kernel.

Each function here has the same name, signature and result as its twin in ``fastprep._core``
(one file per kernel family, named like the Rust file). They are written to be read, not to be
fast; where the result must be bit-identical to the Rust kernel, the operation order is spelled
out. This module is also the pure-Python backend (``fastprep.set_backend("python")``).
"""

from fastprep.reference.artifact import read_artifact
from fastprep.reference.binarize import binarize
from fastprep.reference.discretize import digitize
from fastprep.reference.drift import bin_counts, code_counts
from fastprep.reference.encode import (
    CategoryIndex,
    count_categories,
    encode_gather,
    encode_onehot_csr,
    encode_onehot_dense,
    lookup_codes,
    merge_category_counts,
)
from fastprep.reference.function import apply_function
from fastprep.reference.hashing import hash_columns, hash_features
from fastprep.reference.impute import fill_csr, impute
from fastprep.reference.linear import linear_decision, linear_proba
from fastprep.reference.normalize import normalize, normalize_csr
from fastprep.reference.polynomial import polynomial
from fastprep.reference.post import argmax, log_softmax, nms, sigmoid, softmax, top_k
from fastprep.reference.power import fit_power_lambdas, power_log_likelihood, power_transform
from fastprep.reference.quantile import (
    column_medians,
    column_modes,
    column_quantiles,
    column_quantiles_and_medians,
    csr_column_modes,
    csr_column_quantiles_and_medians,
    weighted_column_quantiles,
)
from fastprep.reference.quantile_transform import quantile_transform, quantile_transform_csr
from fastprep.reference.scale import mul_add, sub_div, sub_div_csr
from fastprep.reference.special import ndtr, ndtri
from fastprep.reference.spline import spline
from fastprep.reference.stats import (
    column_stats,
    copy_matrix,
    csr_column_stats,
    weighted_column_stats,
    weighted_csr_column_stats,
)

__all__ = [
    "CategoryIndex",
    "apply_function",
    "argmax",
    "bin_counts",
    "binarize",
    "code_counts",
    "column_medians",
    "column_modes",
    "column_quantiles",
    "column_quantiles_and_medians",
    "column_stats",
    "copy_matrix",
    "count_categories",
    "csr_column_modes",
    "csr_column_quantiles_and_medians",
    "csr_column_stats",
    "digitize",
    "encode_gather",
    "encode_onehot_csr",
    "encode_onehot_dense",
    "fill_csr",
    "fit_power_lambdas",
    "hash_columns",
    "hash_features",
    "impute",
    "linear_decision",
    "linear_proba",
    "log_softmax",
    "lookup_codes",
    "merge_category_counts",
    "mul_add",
    "ndtr",
    "ndtri",
    "nms",
    "normalize",
    "normalize_csr",
    "polynomial",
    "power_log_likelihood",
    "power_transform",
    "quantile_transform",
    "quantile_transform_csr",
    "read_artifact",
    "sigmoid",
    "softmax",
    "spline",
    "sub_div",
    "sub_div_csr",
    "top_k",
    "weighted_column_quantiles",
    "weighted_column_stats",
    "weighted_csr_column_stats",
]
