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
