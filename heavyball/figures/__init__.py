"""The figure catalogue: one module per figure, discovered from the modules of this package.

A figure module ``heavyball/figures/<name>.py`` (the module's name is the figure's name and the
output files' stem) defines

- ``ORDER`` — an ``int`` literal on a line of its own, its place in the catalogue (ascending;
  ties broken by name): ``heavyball figures --list`` and the README follow it;
- ``CAPTION`` — the caption printed in the README and by ``heavyball figures --list``;
- ``data(*, fast=False) -> dict[str, numpy.ndarray]`` — the numbers behind the figure,
  computed with heavyball's public API;
- ``plot(data, *, fast=False) -> matplotlib.figure.Figure`` — draws the figure from those
  numbers, in the paper style;
- ``make(*, fast=False) -> matplotlib.figure.Figure`` — ``plot(data(fast=fast))``: the
  figure is always drawn from ``data()``, so the picture and the numbers cannot drift apart
  (``heavyball figures --data`` computes ``data()`` once and passes it to ``plot``). Every
  module writes it ``make = make_of(__name__)``.

``data``, ``plot`` and ``make`` are documented once, in ``heavyball/figures/_common.py``: a
module's ``data`` and ``plot`` carry the decorator ``@documented`` and a first line that says
what they compute or draw. Modules whose name starts with ``_`` are helpers, not figures. A new figure needs only its
module: the registry finds it with :mod:`pkgutil` and reads its ``ORDER`` from the source,
without importing it (importing a figure imports matplotlib; listing the catalogue does not).

``fast=True`` uses coarser grids and fewer steps (for tests); the default is the paper-quality
figure. :data:`FIGURES` maps each name to its module, importing modules on first access so
that listing the catalogue stays cheap. :func:`write_csv` writes ``data()`` in long format.

Examples
--------
>>> from heavyball.figures import FIGURES
>>> list(FIGURES)[:3]
['lr_regimes', 'valley_zigzag', 'momentum_memory']
>>> fig = FIGURES["rate_map"].make(fast=True)          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

import numpy as np

from .._io import write_text

__all__ = ["CATALOGUE", "FIGURES", "csv_text", "write_csv"]

# a module-level ``ORDER = <int>`` line (an optional ``: int`` annotation and comment allowed)
_ORDER_LINE = re.compile(r"^ORDER(?:\s*:\s*int)?\s*=\s*(\d+)\s*(?:#.*)?$", re.MULTILINE)


def _order_of(name: str) -> int:
    """The ``ORDER`` of figure module ``name``, read from its source (the module is not imported)."""
    module = f"{__name__}.{name}"
    spec = importlib.util.find_spec(module)
    get_source = getattr(spec.loader if spec is not None else None, "get_source", None)
    found = _ORDER_LINE.findall((get_source(module) if get_source is not None else None) or "")
    if len(found) != 1:
        raise ImportError(f"figure module {module} must define `ORDER = <int>` once, on a line of its own")
    return int(found[0])


def _discover() -> tuple[str, ...]:
    """The figure modules of this package, in catalogue order (``ORDER``, then name)."""
    names = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_") and not info.ispkg]
    return tuple(sorted(names, key=lambda name: (_order_of(name), name)))


class _Registry(Mapping[str, ModuleType]):
    """An ordered, read-only mapping ``name -> module`` that imports modules lazily."""

    def __init__(self, names: Iterable[str]):
        self._names = tuple(names)

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"{__name__}.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __repr__(self) -> str:
        return f"<heavyball figure registry: {', '.join(self._names)}>"


#: the catalogue's figure names, in catalogue order (discovered from the modules)
CATALOGUE: tuple[str, ...] = _discover()
#: name -> figure module, in catalogue order (modules are imported on first access)
FIGURES: Mapping[str, ModuleType] = _Registry(CATALOGUE)


def _format_value(value: object) -> str:
    if isinstance(value, (complex, np.complexfloating)):
        return repr(complex(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value)
    if any(ch in text for ch in ',"\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_text(data: Mapping[str, np.ndarray]) -> str:
    """``data`` (name -> array) as long-format CSV text.

    One row per array element: ``array,index,value``. ``index`` is the element's C-order
    multi-index joined by ``;`` (empty for a scalar), so any mix of shapes fits one table
    and ``numpy`` can rebuild each array; ``value`` is the shortest repr that round-trips
    (``repr(float)``), a string for string arrays (quoted when needed), ``1``/``0`` for
    booleans. Rows follow the order of ``data`` and C order within an array.

    Parameters
    ----------
    data : mapping of str to ndarray

    Returns
    -------
    str
    """
    lines = ["array,index,value"]
    for name, array in data.items():
        array = np.asarray(array)
        for index in np.ndindex(array.shape):
            lines.append(f"{name},{';'.join(map(str, index))},{_format_value(array[index])}")
    return "\n".join(lines) + "\n"


def write_csv(path: str | os.PathLike[str], data: Mapping[str, np.ndarray]) -> Path:
    """Write :func:`csv_text` of ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        The CSV file (its directory must exist).
    data : mapping of str to ndarray
        A figure's ``data()``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return write_text(path, csv_text(data))
