"""Backend selection, and the package working with no compiled module at all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import fastprep as fp
from fastprep._backend import _core

PACKAGE_DIR = Path(fp.__file__).parent


def test_set_and_use_backend():
    before = fp.get_backend()
    with fp.use_backend("python"):
        assert fp.get_backend() == "python"
    assert fp.get_backend() == before
    with pytest.raises(fp.BackendError, match="unknown backend"):
        fp.set_backend("fortran")
    with pytest.raises(fp.BackendError):
        with fp.use_backend("gpu"):
            pass


def test_use_backend_is_local_to_its_thread():
    seen = []
    with fp.use_backend("python"):
        thread = threading.Thread(target=lambda: seen.append(fp.get_backend()))
        thread.start()
        thread.join()
    assert seen == [fp._backend._default]


@pytest.mark.skipif(_core is None, reason="needs the compiled module")
def test_rust_is_the_default_when_built():
    assert fp._backend._default == "rust"


def _run_without_core(tmp_path: Path, code: str, env_backend: str | None):
    """Run ``code`` against a copy of the source package that has no compiled module."""
    target = tmp_path / "fastprep"
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("_core*", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "FASTPREP_BACKEND"}
    env["PYTHONPATH"] = str(tmp_path)
    if env_backend is not None:
        env["FASTPREP_BACKEND"] = env_backend
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )


def test_package_imports_and_works_without_the_compiled_module(tmp_path):
    code = (
        "import numpy as np, fastprep as fp\n"
        "assert fp._backend._core is None\n"
        "print(fp.get_backend())\n"
        "print(fp.StandardScaler().fit_transform(np.array([[0.0], [2.0]])).ravel().tolist())\n"
        "try:\n"
        "    fp.set_backend('rust')\n"
        "except fp.BackendError as e:\n"
        "    print('refused:', e)\n"
    )
    result = _run_without_core(tmp_path, code, None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "python"
    assert lines[1] == "[-1.0, 1.0]"
    assert lines[2].startswith("refused: the 'rust' backend is not available")
    assert (
        result.stderr.count("running on its NumPy reference")
        + result.stderr.count("runs on its NumPy reference")
        == 1
    )  # warned exactly once
    assert "No module named 'fastprep._core'" in result.stderr
    assert "circular import" not in result.stderr


def test_explicit_python_backend_does_not_warn(tmp_path):
    result = _run_without_core(tmp_path, "import fastprep as fp; print(fp.get_backend())", "python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python"
    assert "RuntimeWarning" not in result.stderr


def test_environment_asking_for_missing_rust_is_a_clear_error(tmp_path):
    result = _run_without_core(tmp_path, "import fastprep", "rust")
    assert result.returncode != 0
    assert "BackendError" in result.stderr and "'rust' backend is not available" in result.stderr


@pytest.mark.skipif(_core is None, reason="needs the compiled module")
def test_environment_selects_backend_at_import():
    env = dict(os.environ, FASTPREP_BACKEND="python")
    out = subprocess.run(
        [sys.executable, "-c", "import fastprep as fp; print(fp.get_backend())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == "python", out.stderr


@pytest.mark.skipif(_core is None, reason="needs the compiled module")
def test_a_panic_in_rust_reaches_python_as_a_fastprep_error():
    with pytest.raises(fp.FastprepError, match="internal error"):
        _core._panic_guard_probe()


@pytest.mark.skipif(_core is None, reason="needs the compiled module")
def test_inconsistent_kernel_arguments_are_errors_not_panics():
    x = np.zeros((3, 2))
    with pytest.raises(fp.SchemaError):
        _core.sub_div(x, np.zeros(1), np.ones(2))
    with pytest.raises(fp.SchemaError):
        _core.impute(x, [5], np.zeros(1), [])
    with pytest.raises(fp.SchemaError):
        _core.impute(x, [0, 1], np.zeros(1), [])
    with pytest.raises(fp.ParameterError):
        _core.normalize(x, "l7")
    with pytest.raises(fp.SchemaError):
        _core.sub_div(np.zeros((3, 4))[:, ::2], np.zeros(2), np.ones(2))  # not contiguous


@pytest.mark.skipif(_core is None, reason="needs the compiled module")
def test_reference_and_core_expose_the_same_kernels():
    import ast

    from fastprep import reference

    kernels = set(reference.__all__)
    assert kernels <= set(dir(_core)), kernels - set(dir(_core))
    stub = ast.parse((PACKAGE_DIR / "_core.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert kernels <= stubbed, kernels - stubbed
    assert stubbed <= set(dir(_core)), stubbed - set(dir(_core))
