"""The examples in the docstrings run, and print what they say, under both backends."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "fastprep.scale",
    "fastprep.normalize",
    "fastprep.binarize",
    "fastprep.impute",
    "fastprep.discretize",
    "fastprep.quantile_transform",
    "fastprep.power",
    "fastprep.encode",
    "fastprep.hashing",
    "fastprep.compose.pipeline",
    "fastprep.compose.column_transformer",
    "fastprep.post.functions",
    "fastprep.post.fitted",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, backend):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_readme_python_blocks_run_as_written_in_order(tmp_path, monkeypatch):
    """A newcomer pastes them one after another: each runs, on the bundled data, in a
    directory of its own (they write artifacts)."""
    import re
    import warnings
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for i, block in enumerate(blocks):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the examples show warnings on purpose
            try:
                exec(compile(block, f"README.md python block {i}", "exec"), namespace)
            except Exception as e:
                raise AssertionError(f"README python block {i} fails: {e!r}\n{block}") from e
    assert (tmp_path / "income.fpa").exists() and (tmp_path / "adult.fpa").exists()
