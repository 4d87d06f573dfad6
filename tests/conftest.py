import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import fastprep as fp
from fastprep.testing import available_backends

# Tiny by default so the suite stays quick; HYPOTHESIS_PROFILE=ci for a deeper run, and
# HYPOTHESIS_PROFILE=deep for a bug hunt of one module (e.g. `pytest tests/test_encode.py`).
_common = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
settings.register_profile("dev", max_examples=40, **_common)
settings.register_profile("ci", max_examples=150, **_common)
settings.register_profile("deep", max_examples=1500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=available_backends())
def backend(request):
    """Runs the test once per backend: asked for by the tests whose result depends on the
    kernels that answer (the others run once)."""
    with fp.use_backend(request.param):
        yield request.param


@pytest.fixture
def rust():
    """The Rust backend, for tests of what only it does (the compiled plan, the GIL released,
    parallel row blocks); skipped where the compiled core is not built."""
    if fp._backend._core is None:
        pytest.skip("needs the compiled core")
    with fp.use_backend("rust"):
        yield "rust"


@pytest.fixture(scope="session")
def adult_numeric():
    """The six numeric columns of the bundled Adult data, as float64."""
    from fastprep.datasets import load_adult

    table = load_adult()
    return np.column_stack([table[c] for c in fp.datasets.ADULT_NUMERIC]).astype(np.float64)
