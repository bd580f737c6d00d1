"""The outcomes of a run, in one vocabulary.

Every result of heavyball that says in words whether a run worked (``iterate``'s
:class:`~heavyball.iterate.DiscreteTrajectory`, ``simulate``'s and ``exact``'s
:class:`~heavyball.dynamics.ContinuousTrajectory`, ``compare``'s
:class:`~heavyball.discretization.Comparison`, ``rates.predicted_vs_measured``'s
``RateComparison``) carries a ``status`` from :class:`Status`, a one-line ``message`` and a
``success`` flag. ``success`` is derived from the status here, once: :attr:`Status.success`
for one outcome, :func:`succeeded` for an array of them.

:class:`Status` is a ``str``-valued enum, so a status compares equal to its word
(``tr.status == "converged"``), prints as its word and serialises to JSON as its word.
Batched results hold their statuses in a numpy array of these words; ``Status(word)`` turns
a word back into the enum member.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

__all__ = [
    "COMPARE_STATUSES",
    "ITERATE_STATUSES",
    "RATE_STATUSES",
    "SIMULATE_STATUSES",
    "Status",
    "succeeded",
]


class Status(str, enum.Enum):
    """The outcome of a run: a word (the enum's value), its :attr:`message` and :attr:`success`.

    Iterating a discrete method (``iterate``): :attr:`CONVERGED`, :attr:`MAX_STEPS`,
    :attr:`CYCLE`, :attr:`DIVERGED`. Solving an ODE (``simulate``, ``exact``):
    :attr:`SUCCESS`, :attr:`EVENT`, :attr:`DIVERGED`, :attr:`FAILED`. Comparing iterates with
    an ODE (``compare`` and its relatives): :attr:`COMPLETED`, :attr:`DIVERGED`,
    :attr:`FAILED`. Measuring a rate (``rates.predicted_vs_measured``): :attr:`MEASURED`,
    :attr:`DIVERGED`, :attr:`NO_WINDOW`.

    Examples
    --------
    >>> from heavyball import Status
    >>> Status.CONVERGED == "converged", Status("no-window") is Status.NO_WINDOW
    (True, True)
    >>> f"{Status.MAX_STEPS}", Status.MAX_STEPS.success, Status.CYCLE.success
    ('max_steps', True, False)
    >>> Status.CYCLE.message
    'settled into a cycle: the iterates neither converged nor diverged but repeat a periodic orbit'
    """

    CONVERGED = "converged"
    MAX_STEPS = "max_steps"
    CYCLE = "cycle"
    DIVERGED = "diverged"
    SUCCESS = "success"
    EVENT = "event"
    FAILED = "failed"
    COMPLETED = "completed"
    MEASURED = "measured"
    NO_WINDOW = "no-window"

    # a str-valued enum prints and formats as its word, on every Python version
    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str(self), spec)

    @property
    def success(self) -> bool:
        """Whether the outcome is a success: every outcome except diverged, failed, a cycle and
        no measurement window.

        ``max_steps`` is a success (the run finished without blowing up; more steps may
        converge); ``cycle`` is not (the iterates repeat a periodic orbit and will never
        converge).
        """
        return self.value not in _FAILURES

    @property
    def message(self) -> str:
        """A one-line description of the outcome."""
        return _MESSAGES[self.value]


_FAILURES = frozenset({"diverged", "failed", "cycle", "no-window"})

_MESSAGES = {
    "converged": "converged: the error fell below the tolerance relative to its initial value",
    "max_steps": "stopped after the last step without converging (more steps may converge)",
    "cycle": "settled into a cycle: the iterates neither converged nor diverged but repeat a periodic orbit",
    "diverged": "diverged: the state became non-finite or its norm passed the divergence bound",
    "success": "the solver reached the end of the time span",
    "event": "stopped by a terminal event (gtol, xtol or a user event)",
    "failed": "the solver failed (step size too small, work budget exhausted or no convergence)",
    "completed": "the discrete and continuous runs both completed and were compared",
    "measured": "a rate was fitted on the measured errors",
    "no-window": "too few usable errors to fit a rate: the run converged or stopped too soon",
}

#: the outcomes of ``iterate``
ITERATE_STATUSES = (Status.CONVERGED, Status.MAX_STEPS, Status.CYCLE, Status.DIVERGED)
#: the outcomes of ``simulate`` and ``exact``
SIMULATE_STATUSES = (Status.SUCCESS, Status.EVENT, Status.FAILED, Status.DIVERGED)
#: the outcomes of ``compare``, ``compare_momentum``, ``nesterov_limit`` and their relatives
COMPARE_STATUSES = (Status.COMPLETED, Status.DIVERGED, Status.FAILED)
#: the outcomes of ``rates.predicted_vs_measured``
RATE_STATUSES = (Status.MEASURED, Status.DIVERGED, Status.NO_WINDOW)


def succeeded(status: Any) -> Any:
    """``success`` of a status or of an array of statuses (elementwise).

    Parameters
    ----------
    status : Status, str or array_like of str
        Outcome words (values of :class:`Status`).

    Returns
    -------
    bool or ndarray of bool
        A ``bool`` for one status, an array of the same shape for an array.

    Raises
    ------
    ValueError
        If a word is not a :class:`Status` value.

    Examples
    --------
    >>> import numpy as np
    >>> succeeded("converged"), succeeded(np.array(["diverged", "max_steps"])).tolist()
    (True, [False, True])
    """
    if isinstance(status, str):
        return _member(status).success
    words = np.asarray(status)
    for word in np.unique(words):
        _member(str(word))
    return ~np.isin(words, list(_FAILURES))


def _member(word: str) -> Status:
    try:
        return Status(word)
    except ValueError:
        allowed = ", ".join(repr(s.value) for s in Status)
        raise ValueError(f"`status` must be one of {allowed}; got {word!r}") from None
