"""The special functions (the normal CDF and its inverse) of the quantile and power
transforms: the Rust kernels within 4 ULP of the NumPy reference and close to scipy's."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fastprep import reference
from fastprep._backend import kernels

from .helpers import Optional, ulps

scipy_special = Optional("scipy.special")


@given(p=st.lists(st.floats(0.0, 1.0) | st.sampled_from([0.0, 1.0, 1e-300, np.nan, 2.0])))
def test_ndtri_within_4_ulp_of_reference_and_scipy(p, backend):
    p = np.array(p, dtype=np.float64)
    ours = kernels().ndtri(p)
    assert np.all(ulps(ours, reference.ndtri(p)) <= 4)
    np.testing.assert_allclose(ours, scipy_special.ndtri(p), rtol=1e-13, atol=0)


@given(x=st.lists(st.floats(-40, 40, allow_nan=False) | st.sampled_from([np.inf, -np.inf])))
def test_ndtr_within_4_ulp_of_reference_and_scipy(x, backend):
    x = np.array(x, dtype=np.float64)
    ours = kernels().ndtr(x)
    assert np.all(ulps(ours, reference.ndtr(x)) <= 4)
    np.testing.assert_allclose(ours, scipy_special.ndtr(x), rtol=1e-12, atol=1e-300)
