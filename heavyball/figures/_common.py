"""What the figure modules share: the documented contract of ``data``, ``plot`` and ``make``
(``make`` itself: :func:`make_of`),
the names of the quantities on their axes, and the tunings several of them run.

The sections that say what the three functions of the contract take and return are the same
for every figure (the contract of :mod:`heavyball.figures`); each module writes only the first
line, which says what its own function computes or draws, and :func:`documented` completes it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..optimizers import SGD
from ..problems import Quadratic
from ..rates import optimal_parameters

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_F = TypeVar("_F", bound=Callable[..., Any])

#: the numpydoc sections of each function of the contract, after its first paragraph
SECTIONS = {
    "data": """\
Parameters
----------
fast : bool, optional
    The preview setting (the first line says what it changes).

Returns
-------
dict of str to ndarray
    The arrays the figure draws (``heavyball figures --data`` writes them as CSV).
""",
    "plot": """\
Parameters
----------
d : dict of str to ndarray
    The output of :func:`data`.
fast : bool, optional
    Whether ``d`` came from ``data(fast=True)`` (nothing in the drawing depends on it).

Returns
-------
matplotlib.figure.Figure
""",
    "make": """\
Parameters
----------
fast : bool, optional
    Coarser grids and fewer steps (for tests and previews).

Returns
-------
matplotlib.figure.Figure
""",
}


def documented(fn: _F) -> _F:
    """Complete the docstring of a figure's ``data``, ``plot`` or ``make`` with its :data:`SECTIONS`.

    Parameters
    ----------
    fn : callable
        One of the contract's functions (its name is the key), with a docstring that says
        what it computes or draws.

    Returns
    -------
    callable
        ``fn`` itself, its docstring completed.
    """
    fn.__doc__ = f"{inspect.cleandoc(fn.__doc__ or '')}\n\n{SECTIONS[fn.__name__]}"
    return fn


def make_of(module: str) -> Callable[..., Figure]:
    """The ``make`` of figure module ``module``: ``plot(data(fast=fast), fast=fast)``.

    ``data`` and ``plot`` are looked up in the module when ``make`` is called, so the figure
    is always drawn from the module's own ``data()``.

    Parameters
    ----------
    module : str
        The figure module's ``__name__``.

    Returns
    -------
    callable
        ``make(*, fast=False) -> matplotlib.figure.Figure``, documented as the contract says
        and attributed to ``module``.
    """

    def make(*, fast: bool = False) -> Figure:
        """The figure (see :data:`CAPTION`), drawn from :func:`data`."""
        figure = sys.modules[module]
        drawn: Figure = figure.plot(figure.data(fast=fast), fast=fast)
        return drawn

    make.__module__ = module
    make.__qualname__ = "make"
    return documented(make)


#: the axis labels that several figures share (the same quantity is named the same way)
ITERATION = "iteration $k$"
DISTANCE = r"$\|\theta_k - \theta^\ast\|$"
LOSS = r"$f(\theta_k) - f^\ast$"


def tuned_sgd(family: str, q: Quadratic) -> SGD:
    """torch's SGD at the closed-form tuning of ``family`` for the spectrum of ``q``.

    Parameters
    ----------
    family : {"gd", "heavyball", "nesterov"}
        The tuning is :func:`heavyball.rates.optimal_parameters` of ``(q.h_min, q.h_max)``.
    q : Quadratic

    Returns
    -------
    SGD
    """
    t = optimal_parameters(q.h_min, q.h_max, family)
    return SGD(lr=float(t.lr), momentum=float(t.momentum), nesterov=(family == "nesterov"))


def tuning_text(lr: float, momentum: float | None = None, fmt: str = "g") -> str:
    r"""``$\gamma = …$`` or ``$\gamma = …$, $\mu = …$``: a tuning in a legend or a title.

    Parameters
    ----------
    lr, momentum : float
        The learning rate and the momentum (``None``: a method without momentum).
    fmt : str
        The format of both numbers.

    Returns
    -------
    str
    """
    text = rf"$\gamma = {lr:{fmt}}$"
    return text if momentum is None else rf"{text}, $\mu = {momentum:{fmt}}$"
