"""``python -m fastprep``: the command line."""

import sys

from fastprep.cli import main

sys.exit(main())
