"""`fastprep demo`, the README's first command, on a machine with only the runtime
dependencies: scipy (sparse output) and scikit-learn (the timing peer) are optional."""

from __future__ import annotations

import os
import subprocess
import sys

import fastprep as fp

# The demo's entry point with scipy and scikit-learn made unimportable.
_WITHOUT_OPTIONAL = (
    "import sys\n"
    "for name in ('scipy', 'scipy.sparse', 'sklearn'):\n"
    "    sys.modules[name] = None\n"
    "from fastprep.cli import main\n"
    "sys.exit(main(['demo', '--repeat', '1']))\n"
)


def test_demo_runs_without_the_optional_dependencies():
    env = dict(os.environ, FASTPREP_BACKEND=fp.get_backend())
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_OPTIONAL],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "left out, as their sparse output needs scipy" in out
    assert "OneHotEncoder dense" in out and "OrdinalEncoder" in out
    assert "same outputs and fingerprint: yes" in out
    # Without scikit-learn, each table says how to get the comparison columns.
    assert out.count("`pip install scikit-learn` adds them") == 2


def test_each_dash_and_each_slower_time_is_explained():
    from fastprep.demo import _row

    notes: list = []
    assert _row("CountEncoder", True, {"rust": 1.0}, None, notes).endswith("-")
    assert notes == ["- CountEncoder: scikit-learn has no count encoder."]
    notes.clear()
    assert _row("PowerTransformer", True, {"rust": 4.0}, 4.1, notes).endswith("1.0x*")
    assert notes[0].startswith("* PowerTransformer: not faster than scikit-learn here: ")
    notes.clear()
    assert _row("StandardScaler", True, {"rust": 1.0}, 5.0, notes).endswith("5.0x")
    assert notes == []
