"""``python -m opsflow.cli``: the ``opsflow`` command without the console script."""

import sys

from opsflow.cli import main

sys.exit(main())
