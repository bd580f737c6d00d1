"""The figure catalogue: one module per figure, registered in catalogue order.

Each module ``heavyball.figures.<NAME>`` defines

- ``NAME`` — its name (the module's name, and the output files' stem);
- ``CAPTION`` — the caption printed in the README and by ``heavyball figures --list``;
- ``data(*, fast=False) -> dict[str, numpy.ndarray]`` — the numbers behind the figure,
  computed with heavyball's public API;
- ``plot(data, *, fast=False) -> matplotlib.figure.Figure`` — draws the figure from those
  numbers, in the paper style;
- ``make(*, fast=False) -> matplotlib.figure.Figure`` — ``plot(data(fast=fast))``: the
  figure is always drawn from ``data()``, so the picture and the numbers cannot drift apart
  (``heavyball figures --data`` computes ``data()`` once and passes it to ``plot``).

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
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

import numpy as np

from .._io import write_text

__all__ = ["CATALOGUE", "FIGURES", "csv_text", "write_csv"]

#: the catalogue's figure names, in the order the README shows them
CATALOGUE = (
    "lr_regimes",
    "valley_zigzag",
    "momentum_memory",
    "heavy_ball_physics",
    "discrete_vs_continuous",
    "discretization_order",
    "rate_map",
    "characteristic_roots",
    "predicted_vs_measured",
    "nesterov_lookahead",
    "adam_rotation",
    "nesterov_ode",
    "scaling_limits",
    "rosenbrock",
    "noisy_loss_curves",
    "gibbs_double_well",
    "batch_size_scaling",
    "adam_ode",
    "adam_limits",
    "adam_heavy_ball",
)


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
