"""``python -m heavyball``: the ``heavyball`` command (see :mod:`heavyball.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
