"""``python -m actuarial`` runs the command line (same as the ``actuarial`` command)."""

import sys

from .cli import main

sys.exit(main())
