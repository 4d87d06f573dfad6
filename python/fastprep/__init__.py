"""fastprep: feature pre- and postprocessing for inference services.

scikit-learn-style transforms whose hot loops run in Rust (``fastprep._core``) with a NumPy
reference twin of every kernel (``fastprep.reference``) that is their specification and the
pure-Python backend.
"""

from fastprep import datasets, drift, post
from fastprep._backend import (
    get_backend,
    get_num_threads,
    set_backend,
    set_num_threads,
    use_backend,
)
from fastprep._base import Fitted
from fastprep._version import __version__
from fastprep.accumulators import CategoryCounts, FitAccumulator, Moments, ValueBuffer
from fastprep.artifact import dumps, inspect, inspect_bytes, load, loads
from fastprep.binarize import Binarizer
from fastprep.compose import Bundle, ColumnTransformer, Pipeline
from fastprep.convert import from_sklearn
from fastprep.discretize import KBinsDiscretizer
from fastprep.drift import DriftMonitor
from fastprep.encode import CountEncoder, OneHotEncoder, OrdinalEncoder
from fastprep.exceptions import (
    ArtifactError,
    BackendError,
    ColumnTypeError,
    ConversionError,
    DataError,
    FastprepError,
    NotFittedError,
    ParameterError,
    SchemaError,
    UnknownCategoryError,
)
from fastprep.function import FunctionTransformer
from fastprep.hashing import FeatureHasher
from fastprep.impute import SimpleImputer
from fastprep.linear import LinearClassifier, LinearRegressor
from fastprep.normalize import Normalizer
from fastprep.polynomial import PolynomialFeatures
from fastprep.post import Calibrator, LabelDecoder, PostPipeline, TargetInverse, Threshold
from fastprep.power import PowerTransformer
from fastprep.quantile_transform import QuantileTransformer
from fastprep.scale import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from fastprep.spline import SplineTransformer

__all__ = [
    "ArtifactError",
    "BackendError",
    "Binarizer",
    "Bundle",
    "Calibrator",
    "CategoryCounts",
    "ColumnTransformer",
    "ColumnTypeError",
    "ConversionError",
    "CountEncoder",
    "DataError",
    "DriftMonitor",
    "FastprepError",
    "FeatureHasher",
    "FitAccumulator",
    "Fitted",
    "FunctionTransformer",
    "KBinsDiscretizer",
    "LabelDecoder",
    "LinearClassifier",
    "LinearRegressor",
    "MaxAbsScaler",
    "MinMaxScaler",
    "Moments",
    "Normalizer",
    "NotFittedError",
    "OneHotEncoder",
    "OrdinalEncoder",
    "ParameterError",
    "Pipeline",
    "PolynomialFeatures",
    "PostPipeline",
    "PowerTransformer",
    "QuantileTransformer",
    "RobustScaler",
    "SchemaError",
    "SimpleImputer",
    "SplineTransformer",
    "StandardScaler",
    "TargetInverse",
    "Threshold",
    "UnknownCategoryError",
    "ValueBuffer",
    "__version__",
    "datasets",
    "drift",
    "dumps",
    "from_sklearn",
    "get_backend",
    "get_num_threads",
    "inspect",
    "inspect_bytes",
    "load",
    "loads",
    "post",
    "set_backend",
    "set_num_threads",
    "use_backend",
]
