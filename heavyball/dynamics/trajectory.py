"""The result of solving an ODE: :class:`ContinuousTrajectory`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..status import Status

__all__ = ["ContinuousTrajectory"]


@dataclass(frozen=True, eq=False)
class ContinuousTrajectory:
    r"""A solution of an ODE at a grid of times (from :func:`~heavyball.dynamics.simulate` or :func:`~heavyball.dynamics.exact`).

    Attributes
    ----------
    t : ndarray, shape (n,)
    theta, v : ndarray, shape (n, d)
        Position and velocity (``v = θ'`` for first-order flows).
    energy : ndarray, shape (n,)
        ``½m‖v‖² + f(θ)`` for :class:`HeavyBallODE`, ``½‖v‖² + f(θ)`` for
        :class:`NesterovODE` and :class:`HighResolutionODE`, ``f(θ)`` for
        :class:`GradientFlowODE`.
    success : bool
        ``status.success``: ``True`` for ``"success"`` and ``"event"``.
    status : Status
        ``"success"`` — reached the end of ``t_span`` (or: closed form); ``"event"`` —
        stopped by a terminal event (``gtol``, ``xtol`` or a user event); ``"diverged"`` —
        the state's norm exceeded ``max_norm`` or overflowed (an outcome, ``success=False``,
        never an exception); ``"failed"`` — the solver gave up (scipy's message in
        ``message``) or spent its work budget ``max_nfev`` ("Too many steps");
        :func:`simulate` raises ``RuntimeError`` when ``throw=True``.
    message : str
        What happened, in words (scipy's message for numerical solutions).
    nfev : int
        Right-hand-side evaluations (0 for :func:`exact`).
    sol : scipy.integrate.OdeSolution or None
        The dense solution on the flat state (``[θ, v]`` or ``θ``) when ``dense_output=True``.
    t_events : dict[str, ndarray]
        Times of the events: ``"events[i]"`` for the user's events, and ``"gtol"``,
        ``"xtol"``, ``"max_norm"`` for the built-in ones that were active.
    method : str
        The solver's name, or ``"exact"``.
    fields : dict[str, ndarray]
        The ODE's further fields (from its ``split_state``), by name, each time-first, for
        ODEs whose state holds more than ``θ`` and ``v`` (:class:`~heavyball.AdamODE`:
        ``"first_moment"`` and ``"second_moment"``); empty otherwise. Also readable as
        attributes (``sol.first_moment``).
    """

    t: np.ndarray
    theta: np.ndarray
    v: np.ndarray
    energy: np.ndarray
    success: bool
    status: Status
    message: str
    nfev: int = 0
    sol: Any = None
    t_events: dict[str, np.ndarray] = field(default_factory=dict)
    method: str = "exact"
    fields: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # a word becomes its Status

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: the ODE's further fields by name
        if not name.startswith("_"):
            fields = self.__dict__.get("fields", {})
            if name in fields:
                return fields[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def dim(self) -> int:
        """The dimension ``d`` of ``θ``."""
        return self.theta.shape[-1]

    def __repr__(self) -> str:
        span = f"[{self.t[0]:.4g}, {self.t[-1]:.4g}]" if self.t.size else "[]"
        return (f"ContinuousTrajectory(n={self.t.size}, d={self.dim}, t={span}, method={self.method!r}, "
                f"status={str(self.status)!r}, nfev={self.nfev})")  # fmt: skip
