"""Type checking: the README's code and a typed user script (tests/typing/user_script.py)
pass mypy against fastprep's annotations (``fit`` returns the object's own class, ``load``
takes the expected kind, fitted attributes are typed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent

#: The names the README's snippets take as given, with their types.
README_CONTEXT = """\
import numpy as np
import fastprep as fp
logits: np.ndarray
scores: np.ndarray
classes: list[str]
boxes: np.ndarray
box_classes: np.ndarray
fitted: fp.ColumnTransformer
batch: dict[str, list[object]]
request: dict[str, object]
other_replica_monitor: fp.DriftMonitor
"""


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


def test_the_readme_code_type_checks(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 5
    path = tmp_path / "readme_code.py"
    path.write_text(README_CONTEXT + "\n".join(blocks))
    _mypy(path, tmp_path / "cache")


def test_a_typed_user_script_type_checks(tmp_path):
    _mypy(ROOT / "tests" / "typing" / "user_script.py", tmp_path / "cache")


def test_a_wrong_annotation_is_caught(tmp_path):
    """The check can fail: ``fit`` of a scaler is no encoder."""
    path = tmp_path / "wrong.py"
    path.write_text(
        "import numpy as np\nimport fastprep as fp\n"
        "enc: fp.OneHotEncoder = fp.StandardScaler().fit(np.eye(2))\n"
    )
    with pytest.raises(AssertionError, match="Incompatible types in assignment"):
        _mypy(path, tmp_path / "cache")
