"""Collection rules for the docstring examples under ``heavyball/`` (``--doctest-modules``).

The modules of optional extras import their extra at the top (the compiled kernels import numba);
without the extra installed they are not collected, as their tests in ``tests/`` skip.
"""

from __future__ import annotations

import importlib.util

collect_ignore_glob: list[str] = []
if importlib.util.find_spec("numba") is None:
    collect_ignore_glob.append("heavyball/compiled/[!_]*.py")
