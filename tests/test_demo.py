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
