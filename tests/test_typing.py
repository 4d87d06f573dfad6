"""Type checking: the README's code and a typed user script (tests/typing/user_script.py)
pass mypy and pyright against fastprep's annotations (``fit`` returns the object's own class,
``load`` takes the expected kind, fitted attributes are typed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

mypy = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent

#: The README's blocks run as written (tests/test_docs.py): they take nothing as given.
README_CONTEXT = ""


def _mypy(path: Path, cache: Path) -> None:
    stdout, stderr, status = mypy.run(
        [
            str(path),
            "--cache-dir",
            str(cache),
            "--follow-imports=silent",
            "--ignore-missing-imports",
            "--check-untyped-defs",
            "--python-version",
            "3.11",
        ]
    )
    assert status == 0, stdout + stderr


def _pyright(path: Path) -> None:
    """pyright in basic mode, the mode most projects run, against this interpreter's packages."""
    pyright = pytest.importorskip("pyright")
    del pyright
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--outputjson",
            "--pythonpath",
            sys.executable,
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(run.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert not errors, "\n".join(
        f"{d['range']['start']['line'] + 1}: {d['message']}" for d in errors
    )


def _readme_code(tmp_path: Path) -> Path:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 5
    path = tmp_path / "readme_code.py"
    path.write_text(README_CONTEXT + "\n".join(blocks))
    return path


def test_the_readme_code_type_checks(tmp_path):
    _mypy(_readme_code(tmp_path), tmp_path / "cache")


def test_a_typed_user_script_type_checks(tmp_path):
    _mypy(ROOT / "tests" / "typing" / "user_script.py", tmp_path / "cache")


def test_the_readme_code_passes_pyright(tmp_path):
    _pyright(_readme_code(tmp_path))


def test_a_typed_user_script_passes_pyright():
    _pyright(ROOT / "tests" / "typing" / "user_script.py")


def test_a_wrong_annotation_is_caught(tmp_path):
    """The check can fail: ``fit`` of a scaler is no encoder."""
    path = tmp_path / "wrong.py"
    path.write_text(
        "import numpy as np\nimport fastprep as fp\n"
        "enc: fp.OneHotEncoder = fp.StandardScaler().fit(np.eye(2))\n"
    )
    with pytest.raises(AssertionError, match="Incompatible types in assignment"):
        _mypy(path, tmp_path / "cache")


def test_pyright_catches_a_wrong_annotation(tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(
        "import numpy as np\nimport fastprep as fp\n"
        "enc: fp.OneHotEncoder = fp.StandardScaler().fit(np.eye(2))\n"
    )
    with pytest.raises(AssertionError, match="StandardScaler"):
        _pyright(path)
