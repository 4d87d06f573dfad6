"""scikit-learn's own estimator checks on every fastprep transform, with its defaults and with
the parameter values that change what a check sees (output kind, width, unknown handling),
and on fastprep Pipelines ending in a scikit-learn classifier or regressor.

Postprocessors (Calibrator, Threshold, LabelDecoder) read a model's scores, not a 2-D array
of features; their tags say so, and scikit-learn's checks skip them as they skip its own
FeatureHasher. Where a check is expected to fail, ``EXPECTED_FAILED`` names it with the
reason, and the README lists it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression, SGDRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastprep as fp
from fastprep._base import Fitted

ESTIMATORS = [
    fp.StandardScaler(),
    fp.StandardScaler(with_mean=False, with_std=False),
    fp.MinMaxScaler(),
    fp.MinMaxScaler(feature_range=(-1, 1), clip=True),
    fp.MaxAbsScaler(),
    fp.RobustScaler(),
    fp.RobustScaler(with_centering=False, quantile_range=(10.0, 90.0)),
    fp.Normalizer(),
    fp.Normalizer(norm="max"),
    fp.Binarizer(threshold=0.5),
    fp.FunctionTransformer(np.abs, feature_names_out="one-to-one"),
    fp.PolynomialFeatures(),
    fp.SplineTransformer(),
    fp.SplineTransformer(knots="quantile", extrapolation="periodic", include_bias=False),
    fp.PolynomialFeatures((2, 3), interaction_only=True, include_bias=False),
    fp.FunctionTransformer(np.clip, kw_args={"a_min": -1.0, "a_max": 1.0}),
    fp.SimpleImputer(),
    fp.SimpleImputer(strategy="most_frequent", add_indicator=True),
    fp.SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
    fp.KBinsDiscretizer(),
    fp.KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="uniform"),
    fp.KBinsDiscretizer(n_bins=4, encode="onehot"),
    fp.QuantileTransformer(n_quantiles=20),
    fp.QuantileTransformer(n_quantiles=20, output_distribution="normal"),
    fp.PowerTransformer(),
    fp.PowerTransformer(standardize=False),
    fp.OneHotEncoder(),
    fp.OneHotEncoder(sparse_output=False, handle_unknown="ignore", drop="first"),
    fp.OrdinalEncoder(),
    fp.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
    fp.CountEncoder(),
    fp.CountEncoder(normalize=True, handle_unknown="value"),
    fp.FeatureHasher(),
    fp.FeatureHasher(input_type="string"),
    fp.Pipeline([("impute", fp.SimpleImputer()), ("scale", fp.StandardScaler())]),
    # A model at the end: scikit-learn's classifier and regressor checks.
    fp.Pipeline(
        [
            ("impute", fp.SimpleImputer()),
            ("scale", fp.StandardScaler()),
            ("model", LogisticRegression()),
        ]
    ),
    fp.Pipeline([("scale", fp.MinMaxScaler()), ("model", SGDRegressor(random_state=0))]),
    fp.ColumnTransformer(
        [("scale", fp.StandardScaler(), [0]), ("drop", "drop", [])], remainder="passthrough"
    ),
    fp.Calibrator(),
    fp.Threshold(),
    fp.LabelDecoder(),
]

#: Checks a fastprep class fails on purpose: {class name: {check name: reason}}.
EXPECTED_FAILED: dict[str, dict[str, str]] = {
    "Pipeline": {
        "check_estimators_overwrite_params": (
            "fits its steps in place, as scikit-learn's Pipeline does (which fails this check "
            "alike): the steps parameter holds the fitted steps"
        ),
    },
}


#: Quantile knots: unweighted they interpolate (np.nanpercentile), weighted they are
#: inverted-CDF percentiles, so a weight is not a repeated row (scikit-learn's own
#: SplineTransformer(knots="quantile") fails this check alike).
QUANTILE_KNOTS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "quantile knots are interpolated percentiles unweighted and inverted-CDF ones "
        "weighted, as scikit-learn's (which fails this check alike)"
    ),
}


def _expected_failed(estimator):
    if isinstance(estimator, fp.SplineTransformer) and estimator.knots == "quantile":
        return QUANTILE_KNOTS
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_scikit_learn_estimator_checks(estimator, check, backend):
    check(estimator)


def test_every_transform_is_checked():
    """No public transform is left out of the checks above."""
    checked = {type(e).__name__ for e in ESTIMATORS}
    # Not transforms of a feature matrix: the base class, a bundle of fitted objects, a
    # monitor of one, a postprocessing chain and the inverse of a target transform; and the
    # linear models, which fastprep runs but does not train (their fit refuses, and every
    # estimator check starts with a fit: tests/test_linear.py checks them against
    # scikit-learn's models instead).
    others = {
        "Bundle",
        "DriftMonitor",
        "Fitted",
        "PostPipeline",
        "TargetInverse",
        "LinearClassifier",
        "LinearRegressor",
    }
    transforms = {
        name
        for name in fp.__all__
        if isinstance(getattr(fp, name), type)
        and issubclass(getattr(fp, name), Fitted)
        and name not in others
    }
    assert transforms <= checked, sorted(transforms - checked)
