"""``python -m actuarial.cli`` runs the command line (as ``python -m actuarial`` and ``actuarial`` do)."""

import sys

from . import main

sys.exit(main())
