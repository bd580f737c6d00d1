r"""Adam measured against its continuous models: the sign flow and the heavy ball with friction.

Two statements about torch's Adam, each with a measurement (the third, Adam's iterates against
:class:`~heavyball.AdamODE` when ``β = 1 − (a, b)·lr``, is :func:`heavyball.compare` and
:func:`heavyball.convergence_order`):

**The fixed-β limit** (:func:`compare_sign_flow`). With ``β₁, β₂`` fixed and ``lr → 0`` the
iterates, at ``t = k·lr``, approach the sign-gradient flow ``θ' = −∇f/(|∇f| + ε)``
(:class:`~heavyball.SignGradientFlow`; Ma, Wu & E 2022). The moments are averages over the
last ``1/(1 − β)`` steps, i.e. over a time window ``lr/(1 − β)``, so the error is of order
``lr/(1 − β₂)`` and the iterates reach the flow only once ``lr ≪ 1 − β₂``. Measured on the
valley ``f = ½(θ₁² + 0.1θ₂²)`` from ``θ₀ = (1, 1)`` with ``β = (0.9, 0.999)`` (Euclidean error at
``t = 0.8``): 0.18, 0.22, 0.23, 0.22, 0.18 for ``lr = 10⁻², 3·10⁻³, 10⁻³, 6·10⁻⁴, 2·10⁻⁴`` (a
window ``lr/(1 − β₂)`` of 10 … 0.2, not short against the run: ``v̂`` still remembers the
start), then 0.071, 0.040, 0.021, 0.011 for ``lr = 4·10⁻⁵, 2·10⁻⁵, 10⁻⁵, 5·10⁻⁶`` (ratios 1.79,
1.88, 1.94: order 1); with ``β₂ = 0.99`` the same happens ten times earlier (0.0080, 0.0040,
0.0020, 0.0010 for the same four lr, ratios 1.97, 1.99, 1.99). On this valley Adam moves both
coordinates alike, so each error is √2 times that of one coordinate
(``analysis/adam_limits.py`` prints these numbers).

**Adam as a heavy ball** (:func:`adam_heavy_ball`, :func:`compare_heavy_ball`). With ``v̂``
frozen, ``P = diag(1/(√v̂ + ε))``, Adam's ODE is ``θ' = −P m̂``, ``m̂' = a(∇f − m̂)`` (once the
bias correction has died out, ``e^{−at} ≪ 1``); differentiating the first equation,

.. math::

    \tfrac{1}{a}\,\theta'' + \theta' + P\,\nabla f(\theta) = 0:

a heavy ball of mass ``m = 1/a = lr/(1 − β₁)``, unit friction and the force ``P∇f`` scaled per
coordinate. In the steps themselves, ``v = −P m`` obeys ``v ← β₁v − (1 − β₁)P∇f``,
``θ ← θ + lr·v``: the semi-implicit Euler scheme of that ODE with ``Δt = lr``,
``μ = 1 − cΔt/m = β₁`` and ``η = Δt/m = 1 − β₁`` — β₁ is the momentum μ of the lecture's map.
In the coordinates ``φ = P^{−1/2}θ`` the force is a gradient, ``P^{1/2}∇f(P^{1/2}φ)``: the
preconditioned heavy ball is the ordinary one on ``f(P^{1/2}φ)``, solved exactly on
quadratics. The approximation is as good as ``v̂`` is frozen: ``v̂`` relaxes at the rate
``b = (1 − β₂)/lr``, so over a time ``T`` the gap is ``O(b·T)`` (plus the ``O(lr)`` of the
discretisation) and shrinks as ``β₂ → 1``: measured on the valley with curvatures 0.1 and 1
rotated by 30°, from ``θ₀ = (−1.5, 0.5)`` at rest with ``v̂ = ∇f(θ₀)²``, ``lr = 10⁻³``,
``β₁ = 0.99``, the largest gap on ``[0, 3]`` is 0.73, 0.16, 0.014, 0.0014, 0.0010 for
``β₂ = 0.99, 0.999, 0.9999, 0.99999, 0.999999`` (``b = 10 … 0.001``): proportional to ``b``
down to the ``O(lr)`` floor.

References
----------
Ma, C., Wu, L. & E, W. (2022). A qualitative study of the dynamic behavior for adaptive
gradient algorithms. Proc. Mathematical and Scientific Machine Learning, PMLR 145.
Barakat, A. & Bianchi, P. (2021). Convergence and dynamical behavior of the ADAM algorithm
for nonconvex stochastic optimization. SIAM J. Optim. 31(1).
Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_real, check_point, describe
from .adam_ode import SignGradientFlow, _betas, _preconditioner
from .discretization.comparison import Comparison, _assemble, _check_times, _compare_iterates, _discrete_energy
from .dynamics import METHODS as SOLVERS
from .dynamics import ContinuousTrajectory, HeavyBallODE, exact, simulate
from .dynamics.odes import _has_hessian
from .iterate import iterate
from .optimizers import Adam, AdamState
from .problems import Quadratic, check_problem

__all__ = ["AdamHeavyBall", "adam_heavy_ball", "compare_heavy_ball", "compare_sign_flow"]

#: the step count given to Adam's state when ``v̂`` is handed over as settled: β^k underflows to
#: 0 for every β < 1 − 1e-12, so torch's bias corrections ``1 − β^k`` are exactly 1
SETTLED_STEP = 2**62


def compare_sign_flow(problem, theta0, *, lr, t_final, betas=(0.9, 0.999), eps=1e-8, method="DOP853") -> Comparison:
    r"""torch's Adam with fixed ``β`` against the sign-gradient flow ``θ' = −∇f/(|∇f| + ε)``.

    The iterates of ``Adam(lr, betas, eps)`` at ``t_k = k·lr`` next to
    :func:`~heavyball.simulate` of :class:`~heavyball.SignGradientFlow` (``eps``) from the same
    ``θ₀``. The error shrinks like ``lr/(1 − β₂)`` once ``lr ≪ 1 − β₂`` (see the module
    docstring for measured numbers). ``mu, eta`` of the result are ``β₁, 1 − β₁``.

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic([[1.0, 0.0], [0.0, 0.1]])
    >>> errs = [hb.compare_sign_flow(q, [1.0, 1.0], lr=lr, t_final=0.8, betas=(0.9, 0.99)).final_error
    ...         for lr in (2e-4, 1e-4)]
    >>> round(errs[0] / errs[1], 1)               # → 2 (order 1) once lr ≪ 1 − β₂ = 0.01
    1.9
    """
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    beta1, beta2 = _betas(betas)
    flow = SignGradientFlow(eps)
    opt = Adam(lr=lr, betas=(beta1, beta2), eps=as_real("eps", eps, lower=0.0, lower_inclusive=False))
    return _compare_iterates(flow, opt, problem, theta0, dt=lr, t_final=t_final, method=method, mu=beta1,
                             eta=1.0 - beta1, what="adam (fixed betas)")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Adam as a heavy ball with friction
# ---------------------------------------------------------------------------------------------
class _Rescaled:
    """The problem ``φ ↦ f(Sφ)`` for a positive diagonal ``S`` (``∇ = S∇f(Sφ)``, ``∇² = S∇²f S``)."""

    def __init__(self, problem, scale: np.ndarray):
        self.base, self.scale, self.dim = problem, scale, int(problem.dim)
        self.has_hessian = _has_hessian(problem)
        minimizer = getattr(problem, "minimizer", None)
        self.minimizer = None if minimizer is None else np.asarray(minimizer, dtype=np.float64) / scale

    def value(self, phi):
        return self.base.value(np.asarray(phi) * self.scale)

    def grad(self, phi):
        return self.scale * np.asarray(self.base.grad(np.asarray(phi) * self.scale), dtype=np.float64)

    def hessian(self, phi):
        H = np.asarray(self.base.hessian(np.asarray(phi) * self.scale), dtype=np.float64)
        return self.scale[:, None] * H * self.scale[None, :]

    def __repr__(self) -> str:
        return f"Rescaled({self.base!r}, scale={self.scale!r})"


@dataclass(frozen=True, eq=False)
class AdamHeavyBall:
    r"""The heavy ball ``m·θ'' + c·θ' + P∇f(θ) = 0`` that Adam follows while ``v̂`` is frozen.

    Attributes
    ----------
    mass : float
        ``m = lr/(1 − β₁) = 1/a``.
    friction : float
        ``c = 1``.
    preconditioner : ndarray, shape (d,)
        ``P = 1/(√v̂ + ε)``, the force's per-coordinate scale.
    dt : float
        ``lr``: the time of one Adam step (``t = k·lr``).
    momentum : float
        ``β₁ = 1 − c·dt/m``: the momentum of the heavy ball's semi-implicit Euler scheme.
    eta : float
        ``1 − β₁ = dt/m``: its gradient coefficient (velocity form).
    """

    mass: float
    friction: float
    preconditioner: np.ndarray
    dt: float
    momentum: float
    eta: float

    @property
    def ode(self) -> HeavyBallODE:
        """``HeavyBallODE(mass, friction)``, which this system is in the coordinates ``φ = P^{−1/2}θ``."""
        return HeavyBallODE(self.mass, self.friction)

    def rescaled(self, problem) -> Any:
        """The problem in ``φ = P^{−1/2}θ``: ``f(P^{1/2}φ)`` (a :class:`~heavyball.Quadratic`
        with ``A' = SAS``, ``b' = Sb``, ``S = P^{1/2}``, for a quadratic)."""
        scale = np.sqrt(self.preconditioner)
        if isinstance(problem, Quadratic):
            return Quadratic(scale[:, None] * problem.A * scale[None, :], scale * problem.b)
        return _Rescaled(problem, scale)

    def solve(self, problem, theta0, t, *, v0=None, method="DOP853") -> ContinuousTrajectory:
        """``θ(t)`` of ``m·θ'' + c·θ' + P∇f(θ) = 0`` from ``θ(0) = θ₀``, ``θ'(0) = v0`` (rest by
        default) at the times ``t`` (from 0): exact on quadratics, :func:`~heavyball.simulate`
        otherwise; ``theta`` and ``v`` are mapped back from ``φ``."""
        d = check_problem(problem)
        theta0 = check_point("theta0", theta0, d)
        v0 = np.zeros(d) if v0 is None else check_point("v0", v0, d)
        if self.preconditioner.shape != (d,):
            raise ValueError(
                f"`problem` must have dimension {self.preconditioner.shape[0]} (the preconditioner's), got {d}"
            )
        scale = np.sqrt(self.preconditioner)
        target = self.rescaled(problem)
        t = np.asarray(t, dtype=np.float64)
        if isinstance(target, Quadratic):
            sol = exact(self.ode, target, theta0 / scale, t, v0=v0 / scale)
        else:
            sol = simulate(self.ode, target, theta0 / scale, (0.0, float(t[-1])), v0=v0 / scale, t_eval=t,
                           method=method, throw=False)  # fmt: skip
        return ContinuousTrajectory(t=sol.t, theta=sol.theta * scale, v=sol.v * scale, energy=sol.energy,
                                    success=sol.success, status=sol.status, message=sol.message, nfev=sol.nfev,
                                    method=sol.method)  # fmt: skip


def adam_heavy_ball(lr, betas=(0.9, 0.999), eps=1e-8, *, v_hat) -> AdamHeavyBall:
    r"""The heavy-ball form of Adam at a frozen second moment ``v̂``.

    ``m = lr/(1 − β₁)``, ``c = 1``, ``P = 1/(√v̂ + ε)``; in Adam's time ``t = k·lr``,
    ``(1/a)θ'' + θ' + P∇f(θ) = 0`` with ``a = (1 − β₁)/lr`` (module docstring). β₁ takes the place
    of the momentum ``μ = 1 − cΔt/m`` (with ``Δt = lr``), and ``η = Δt/m = 1 − β₁``.

    Parameters
    ----------
    lr : float, > 0
    betas : (float, float) in [0, 1)
        ``β₂`` does not enter the heavy ball: it sets how fast ``v̂`` (here frozen) moves.
    eps : float, >= 0
    v_hat : array_like, shape (d,), >= 0
        The frozen (bias-corrected) second moment.

    Examples
    --------
    >>> import heavyball as hb
    >>> form = hb.adam_heavy_ball(0.01, (0.9, 0.999), 0.0, v_hat=[4.0, 0.25])
    >>> round(form.mass, 12), form.friction, form.momentum, form.preconditioner.tolist()
    (0.1, 1.0, 0.9, [0.5, 2.0])
    """
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    beta1, _ = _betas(betas)
    if beta1 == 0.0:
        raise ValueError("`betas[0]` must be > 0 for a heavy ball (β₁ = 0 has no momentum: mass lr), got 0.0")
    eps = as_real("eps", eps, lower=0.0)
    v_hat = as_real("v_hat", v_hat, lower=0.0, array=True)
    if v_hat.ndim != 1:
        raise ValueError(f"`v_hat` must be a 1-D array (one second moment per coordinate), got {describe(v_hat)}")
    if eps == 0.0 and np.any(v_hat == 0):
        raise ValueError("`v_hat` must be > 0 where `eps` = 0 (the force scale 1/(√v̂ + ε) would be infinite)")
    P = _preconditioner(v_hat, eps)
    P.flags.writeable = False
    return AdamHeavyBall(mass=lr / (1.0 - beta1), friction=1.0, preconditioner=P, dt=lr, momentum=beta1,
                         eta=1.0 - beta1)  # fmt: skip


def compare_heavy_ball(problem, theta0, *, lr, betas, v_hat, t_final, eps=1e-8, m_hat=None,
                       method="DOP853") -> Comparison:  # fmt: skip
    r"""Adam started with a settled second moment ``v̂`` against its frozen-``P`` heavy ball.

    torch's Adam runs from ``θ₀`` with the state ``m = m_hat`` (zero: at rest) and
    ``v = v_hat`` after so many steps (:data:`SETTLED_STEP`) that the bias corrections are 1;
    its iterates at ``t_k = k·lr`` are compared with ``θ(t)`` of
    ``(lr/(1 − β₁))·θ'' + θ' + P∇f(θ) = 0`` (:func:`adam_heavy_ball`), ``θ(0) = θ₀``,
    ``θ'(0) = −P·m_hat``. The gap has two parts: ``O(lr)`` from the discretisation and
    ``O(b·t_final)`` from ``v̂`` relaxing (``b = (1 − β₂)/lr``); the second vanishes as
    ``β₂ → 1``. ``mu, eta`` of the result are ``β₁, 1 − β₁``.

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic([[1.0, 0.0], [0.0, 0.1]])
    >>> gaps = [hb.compare_heavy_ball(q, [1.0, 1.0], lr=1e-3, betas=(0.99, beta2), v_hat=[1.0, 0.01],
    ...                               t_final=3.0).max_error for beta2 in (0.999, 0.9999)]
    >>> round(gaps[0] / gaps[1], 1)               # b·T ten times smaller: the gap ~ten times smaller
    8.7
    """
    d = check_problem(problem)
    theta0 = check_point("theta0", theta0, d)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    beta1, beta2 = _betas(betas)
    eps = as_real("eps", eps, lower=0.0, lower_inclusive=False)
    form = adam_heavy_ball(lr, (beta1, beta2), eps, v_hat=v_hat)
    if form.preconditioner.shape != (d,):
        raise ValueError(f"`v_hat` must have shape ({d},) (the problem's dimension), got {describe(v_hat)}")
    m_hat = np.zeros(d) if m_hat is None else check_point("m_hat", m_hat, d)
    t_final, dt, steps = _check_times(t_final, lr, d, dt_name="lr")
    if method not in SOLVERS:
        raise ValueError(f"`method` must be one of {', '.join(map(repr, SOLVERS))}, got {method!r}")
    opt = Adam(lr=lr, betas=(beta1, beta2), eps=eps)
    v_settled = np.asarray(v_hat, dtype=np.float64)
    state = AdamState(SETTLED_STEP, m_hat.copy(), v_settled.copy(), None)
    theta_d = np.asarray(iterate(opt, problem, theta0, steps, record="all", state=state).theta, dtype=np.float64)
    t = np.arange(steps + 1) * dt
    sol = form.solve(problem, theta0, t, v0=-form.preconditioner * m_hat, method=method)
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=_discrete_energy(problem, theta_d, None, 0.0),
                     mu=beta1, eta=1.0 - beta1, dt=dt, scheme="adam (settled v̂)", steps=steps,
                     what="adam (settled v̂)")  # fmt: skip
