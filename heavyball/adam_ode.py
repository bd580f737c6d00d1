r"""Adam in continuous time: the Adam ODE and its fixed-β limit, the sign-gradient flow.

torch's Adam with learning rate ``s``, ``β₁ = 1 − a·s``, ``β₂ = 1 − b·s`` (``a, b > 0`` fixed)
follows, as ``s → 0`` in the time ``t = k·s``, the non-autonomous ODE (:class:`AdamODE`)

.. math::

    \theta' = -\frac{\hat m}{\sqrt{\hat v} + \varepsilon}, \qquad
    \hat m' = \frac{a\,(\nabla f(\theta) - \hat m)}{1 - e^{-a t}}, \qquad
    \hat v' = \frac{b\,(\nabla f(\theta)^2 - \hat v)}{1 - e^{-b t}},

with ``m̂(0) = ∇f(θ₀)`` and ``v̂(0) = ∇f(θ₀)²`` (squares and roots elementwise). It is the
first-order expansion of one step: the moments ``m_k = β₁m_{k−1} + (1−β₁)g_k`` become
``m' = a(∇f − m)`` (and ``v' = b(∇f² − v)``), the bias corrections ``1 − β₁^k = 1 − (1 − a·s)^{t/s}``
become ``1 − e^{−at}``, and ``m̂ = m/(1 − e^{−at})`` obeys the equation above. Barakat &
Bianchi (2021) introduce this ODE (in the un-hatted form, ``m(0) = v(0) = 0``) and prove that
the interpolated Adam iterates converge to it; da Silva & Gazeau (2020) derive the same
system as the continuous limit of the whole family of adaptive methods. Without the bias
correction (``bias_correction=False``) the system is autonomous:
``θ' = −m/(√v + ε)``, ``m' = a(∇f − m)``, ``v' = b(∇f² − v)``, ``m(0) = v(0) = 0``.

With ``β₁, β₂`` fixed instead and ``s → 0``, the moments average over a window of
``1/(1 − β)`` steps, i.e. ``s/(1 − β) → 0`` in time, so ``m̂ → ∇f`` and ``v̂ → ∇f²``: the
iterates follow the sign-gradient flow (:class:`SignGradientFlow`)
``θ' = −∇f/(|∇f| + ε)`` elementwise — sign descent where ``ε ≪ |∇f|`` (Ma, Wu & E 2022 use it
to explain Adam's fast initial phase). The approach is of first order in ``s/(1 − β₂)``: it
needs ``s ≪ 1 − β₂`` (see :func:`heavyball.adam_limits.compare_sign_flow`).

The singular start
------------------
The coefficients ``a/(1 − e^{−at})`` are infinite at ``t = 0`` (they behave like ``1/t``).
The solution is smooth there (``m̂ − ∇f(θ) = O(t)``), but the right-hand side is ``∞·0``. The
ODE therefore starts the solver at a small ``t₀`` (``AdamODE.t0``; default
``10⁻⁶·min(1, 1/max(a, b))``) from the second-order series of the solution,

.. math::

    \hat m(t) = g_0 + \tfrac{t}{2} g_1, \quad \hat v(t) = g_0^2 + t\,g_0 g_1, \quad
    \theta(t) = \theta_0 + t\,\theta_1 + \tfrac{t^2}{2}\theta_2,

with ``g₀ = ∇f(θ₀)``, ``θ₁ = −g₀/(|g₀| + ε)``, ``g₁ = ∇²f(θ₀)θ₁`` (a central difference of
``∇f`` along ``θ₁`` when the problem has no Hessian) and ``θ₂`` the derivative of
``−m̂/(√v̂ + ε)`` (each moment's first coefficient is half its input's, because
``x' = (u − x)/t + O(1)`` gives ``x₁ = u₁/2``). The series' errors are ``O(t₀²)`` in the
moments and ``O(t₀³)`` in ``θ``; past ``t₀`` the coefficient ``a/(1 − e^{−at})`` is computed as
``a/(−expm1(−at))``, accurate to the last digit for every ``t > 0``. Times of ``t_eval`` in
``[0, t₀)`` come from the same series.

References
----------
Barakat, A. & Bianchi, P. (2021). Convergence and dynamical behavior of the ADAM algorithm
for nonconvex stochastic optimization. SIAM J. Optim. 31(1), 244–274.
Belotto da Silva, A. & Gazeau, M. (2020). A general system of differential equations to model
first-order adaptive algorithms. JMLR 21(129).
Ma, C., Wu, L. & E, W. (2022). A qualitative study of the dynamic behavior for adaptive
gradient algorithms. Proc. Mathematical and Scientific Machine Learning, PMLR 145.
Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

import numpy as np

from ._validation import as_bool, as_real, describe
from .dynamics.odes import _has_hessian, _hessian
from .optimizers import Adam, AdamW

__all__ = ["AdamODE", "SignGradientFlow"]

#: the default series start of :class:`AdamODE`, relative to its fastest time scale 1/max(a, b, 1)
DEFAULT_T0 = 1e-6


def _bias_rate(rate: float, t) -> Any:
    """``rate/(1 − e^{−rate·t})`` for ``t > 0`` (``inf`` at ``t = 0``), without cancellation."""
    with np.errstate(divide="ignore"):
        return rate / -np.expm1(-rate * np.asarray(t, dtype=np.float64))


def _preconditioner(v_hat: np.ndarray, eps: float) -> np.ndarray:
    """``1/(√v̂ + ε)`` elementwise, with ``v̂`` clipped at 0 (rounding may push it below) and
    ``1/0`` read as 0 (ε = 0 and ``v̂ = 0``: that coordinate's moment is 0 as well)."""
    root = np.sqrt(np.maximum(v_hat, 0.0)) + eps
    with np.errstate(divide="ignore"):
        return np.where(root > 0, 1.0 / np.where(root > 0, root, 1.0), 0.0)


def _grad_derivative(problem, theta0: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """``∇²f(θ₀)·direction``: exact with a Hessian, else a central difference of ``∇f``."""
    if _has_hessian(problem):
        return np.asarray(problem.hessian(theta0), dtype=np.float64) @ direction
    norm = float(np.linalg.norm(direction))
    if norm == 0.0:
        return np.zeros_like(theta0)
    h = np.cbrt(np.finfo(np.float64).eps) * max(1.0, float(np.linalg.norm(theta0))) / norm
    pts = np.stack([theta0 + h * direction, theta0 - h * direction])
    g = np.asarray(problem.grad(pts), dtype=np.float64)
    return (g[0] - g[1]) / (2 * h)


@dataclass(frozen=True)
class AdamODE:
    r"""The ODE that Adam's iterates follow when ``lr → 0`` with ``β₁ = 1 − a·lr``, ``β₂ = 1 − b·lr``.

    On the state ``y = [θ, m̂, v̂]`` (shape ``(3d,)``)::

        θ' = −m̂/(√v̂ + ε) [− λθ],   m̂' = a(g − m̂)/(1 − e^{−at}),   v̂' = b(g² − v̂)/(1 − e^{−bt}),

    with ``g = ∇f(θ) [+ λθ]``, ``m̂(0) = g(θ₀)``, ``v̂(0) = g(θ₀)²``; time ``t = k·lr``. Weight decay
    ``λ`` is coupled (added to the gradient, torch's ``Adam``) or decoupled (the ``−λθ`` term,
    torch's ``AdamW``: ``θ ← (1 − lr·λ)θ − …`` is its Euler step). ``bias_correction=False``
    gives the un-corrected moments ``m, v`` with ``m(0) = v(0) = 0`` and no factors
    ``1/(1 − e^{−at})``. See the module docstring for the derivation, the series start at
    ``t₀`` and the references (Barakat & Bianchi 2021; Belotto da Silva & Gazeau 2020).

    For :func:`~heavyball.simulate` the trajectory's ``theta`` is ``θ`` (shape ``(n, d)``),
    ``v`` is ``θ'``, ``energy`` is ``f(θ)``, and the moments are in
    ``fields["first_moment"]`` and ``fields["second_moment"]`` (``m̂, v̂``, or ``m, v`` without
    bias correction). The bias-corrected ODE starts at ``t = 0`` (Adam's first step); the
    Jacobian goes to the implicit methods when the problem has a Hessian (for coupled weight
    decay, ``∇²f + λI``).

    Parameters
    ----------
    a, b : float, > 0
        The rates of the first and second moments: ``a = (1 − β₁)/lr``, ``b = (1 − β₂)/lr``.
    eps : float, >= 0
        Adam's ``ε`` (added to ``√v̂``; unchanged by the scaling).
    weight_decay : float, >= 0, keyword-only
    decoupled : bool, keyword-only
        ``True``: AdamW's decoupled weight decay.
    bias_correction : bool, keyword-only
    t0 : float, > 0, optional, keyword-only
        Where the solver starts (from the series) when the bias-corrected ODE starts at 0.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> ode = hb.AdamODE.from_adam(lr=0.01, betas=(0.99, 0.98))
    >>> round(ode.a, 12), round(ode.b, 12)
    (1.0, 2.0)
    >>> sol = hb.simulate(ode, hb.Quadratic.valley(kappa=10), [1.0, 1.0], (0.0, 2.0), t_eval=[0.0, 1.0, 2.0])
    >>> sol.theta.shape, sol.fields["first_moment"].shape
    ((3, 2), (3, 2))
    >>> np.round(sol.v[0], 6)                    # θ'(0) = −sign(∇f(θ₀)) up to ε
    array([-1., -1.])
    >>> ode.to_adam(lr=0.001).betas              # the same ODE, a smaller step
    (0.999, 0.998)
    """

    a: float
    b: float
    eps: float = 1e-8
    _: KW_ONLY
    weight_decay: float = 0.0
    decoupled: bool = False
    bias_correction: bool = True
    t0: float | None = None

    order: ClassVar[int] = 1
    autonomous: ClassVar[bool] = False
    #: the names of the state's blocks, in order (each of length d)
    state_fields: ClassVar[tuple[str, ...]] = ("theta", "first_moment", "second_moment")

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", as_real("a", self.a, lower=0.0, lower_inclusive=False))
        object.__setattr__(self, "b", as_real("b", self.b, lower=0.0, lower_inclusive=False))
        object.__setattr__(self, "eps", as_real("eps", self.eps, lower=0.0))
        object.__setattr__(self, "weight_decay", as_real("weight_decay", self.weight_decay, lower=0.0))
        object.__setattr__(self, "decoupled", as_bool("decoupled", self.decoupled))
        object.__setattr__(self, "bias_correction", as_bool("bias_correction", self.bias_correction))
        if self.t0 is None:
            object.__setattr__(self, "t0", DEFAULT_T0 * min(1.0, 1.0 / max(self.a, self.b)))
        else:
            object.__setattr__(self, "t0", as_real("t0", self.t0, lower=0.0, lower_inclusive=False))

    # -- the map to and from torch's hyperparameters ---------------------------------------
    @classmethod
    def from_adam(cls, lr, betas=(0.9, 0.999), eps=1e-8, *, weight_decay=0.0, decoupled=False,
                  bias_correction=True) -> AdamODE:  # fmt: skip
        r"""The ODE of ``Adam(lr, betas, eps, weight_decay)`` (``AdamW`` when ``decoupled``):
        ``a = (1 − β₁)/lr``, ``b = (1 − β₂)/lr``, the same ``ε`` and ``λ``.

        Raises ``ValueError`` naming the argument for ``lr <= 0``, ``β`` outside ``[0, 1)``,
        ``ε < 0``, ``λ < 0`` or NaN.

        Examples
        --------
        >>> import heavyball as hb
        >>> ode = hb.AdamODE.from_adam(0.001, (0.9, 0.999))
        >>> round(ode.a, 9), round(ode.b, 9)
        (100.0, 1.0)
        """
        lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
        beta1, beta2 = _betas(betas)
        return cls((1.0 - beta1) / lr, (1.0 - beta2) / lr, as_real("eps", eps, lower=0.0),
                   weight_decay=weight_decay, decoupled=decoupled, bias_correction=bias_correction)  # fmt: skip

    @classmethod
    def from_optimizer(cls, opt) -> AdamODE:
        """The ODE of a :class:`~heavyball.Adam` or :class:`~heavyball.AdamW` with scalar
        hyperparameters (``amsgrad`` and ``maximize`` have no ODE here and are refused)."""
        if not isinstance(opt, Adam):
            raise TypeError(f"`opt` must be a heavyball Adam or AdamW, got {describe(opt)}")
        if opt.amsgrad or opt.maximize:
            raise ValueError(f"`opt` must not use amsgrad or maximize (no ODE is defined for them), got {opt!r}")
        values = (opt.lr, *opt.betas, opt.eps, opt.weight_decay)
        if not all(isinstance(x, float) for x in values):
            raise ValueError(f"`opt` must have scalar hyperparameters (one ODE), got {opt!r}")
        return cls.from_adam(opt.lr, opt.betas, opt.eps, weight_decay=opt.weight_decay,
                             decoupled=isinstance(opt, AdamW))  # fmt: skip

    def to_adam(self, lr) -> Adam:
        r"""torch's Adam (``AdamW`` when decoupled) that follows this ODE with step ``lr``:
        ``β₁ = 1 − a·lr``, ``β₂ = 1 − b·lr``; the iterates ``θ_k`` approximate ``θ(k·lr)`` to
        first order in ``lr``. Needs ``a·lr <= 1`` and ``b·lr <= 1`` (``β >= 0``) and ``ε > 0``
        (heavyball's Adam refuses ``ε = 0``)."""
        lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
        if not self.bias_correction:
            raise ValueError("`bias_correction` must be True to map the ODE to torch's Adam (torch always corrects)")
        if max(self.a, self.b) * lr > 1.0:
            raise ValueError(
                f"`lr` must be <= 1/max(a, b) = {1.0 / max(self.a, self.b):.6g} so that β₁ = 1 − a·lr and "
                f"β₂ = 1 − b·lr lie in [0, 1), got lr={lr!r}"
            )
        if self.eps == 0.0:
            raise ValueError("`eps` must be > 0 to build heavyball's Adam (it refuses ε = 0), got eps=0.0")
        kind = AdamW if self.decoupled else Adam
        return kind(lr=lr, betas=(1.0 - self.a * lr, 1.0 - self.b * lr), eps=self.eps, weight_decay=self.weight_decay)

    # -- the ODE protocol -------------------------------------------------------------------
    def _gradient(self, problem, theta):
        g = np.asarray(problem.grad(theta), dtype=np.float64)
        if self.weight_decay and not self.decoupled:
            g = g + self.weight_decay * theta
        return g

    def _gradient_derivative(self, problem, theta0, direction):
        out = _grad_derivative(problem, theta0, direction)
        if self.weight_decay and not self.decoupled:
            out = out + self.weight_decay * direction
        return out

    def _velocity(self, theta, m, v):
        out = -m * _preconditioner(v, self.eps)
        if self.weight_decay and self.decoupled:
            out = out - self.weight_decay * theta
        return out

    def initial_state(self, problem, theta0, v0, t0):
        """``(t_start, [θ, m̂, v̂])``: the series state at ``self.t0`` when the bias-corrected
        ODE starts at 0; ``(t0, [θ₀, 0, 0])`` without bias correction."""
        if v0 is not None:
            raise ValueError(f"`v0` must be None for AdamODE (θ'(0) is set by the moments), got {describe(v0)}")
        theta0 = np.asarray(theta0, dtype=np.float64)
        if not self.bias_correction:
            z = np.zeros_like(theta0)
            return float(t0), np.concatenate([theta0, z, z])
        if t0 != 0:
            raise ValueError(
                f"`t_span` must start at 0 for the bias-corrected AdamODE (t is the time since Adam's "
                f"first step, t = k·lr), got t_span[0] = {t0!r}"
            )
        return float(self.t0), self.prefix(problem, theta0, np.array([self.t0]))[0]

    def prefix(self, problem, theta0, t) -> np.ndarray:
        """The series of the bias-corrected solution at times ``t`` near 0: flat states ``(n, 3d)``."""
        theta0 = np.asarray(theta0, dtype=np.float64)
        g0 = self._gradient(problem, theta0)
        root0 = np.abs(g0)
        p0 = _preconditioner(g0 * g0, self.eps)
        theta1 = self._velocity(theta0, g0, g0 * g0)
        g1 = self._gradient_derivative(problem, theta0, theta1)
        m1, v1 = 0.5 * g1, g0 * g1
        with np.errstate(divide="ignore", invalid="ignore"):
            root1 = np.where(root0 > 0, v1 / (2 * np.where(root0 > 0, root0, 1.0)), 0.0)  # (√v̂)'(0)
        theta2 = -m1 * p0 + g0 * root1 * p0 * p0
        if self.weight_decay and self.decoupled:
            theta2 = theta2 - self.weight_decay * theta1
        t = np.asarray(t, dtype=np.float64)[:, None]
        return np.concatenate([theta0 + t * theta1 + 0.5 * t * t * theta2, g0 + t * m1, g0 * g0 + t * v1], axis=1)

    def rhs(self, t, y, problem):
        """``[θ', m̂', v̂']`` on the flat state (``t > 0`` for the bias-corrected form)."""
        d = y.shape[0] // 3
        theta, m, v = y[:d], y[d : 2 * d], y[2 * d :]
        g = self._gradient(problem, theta)
        ka, kb = (_bias_rate(self.a, t), _bias_rate(self.b, t)) if self.bias_correction else (self.a, self.b)
        return np.concatenate([self._velocity(theta, m, v), ka * (g - m), kb * (g * g - v)])

    def jacobian(self, t, y, problem):
        """``∂[θ', m̂', v̂']/∂[θ, m̂, v̂]`` from ``∇²f``; ``None`` without a Hessian."""
        d = y.shape[0] // 3
        theta, m, v = y[:d], y[d : 2 * d], y[2 * d :]
        H = _hessian(problem, theta)
        if H is None:
            return None
        if self.weight_decay and not self.decoupled:
            H = H + self.weight_decay * np.eye(d)
        g = self._gradient(problem, theta)
        ka, kb = (
            (float(_bias_rate(self.a, t)), float(_bias_rate(self.b, t))) if self.bias_correction else (self.a, self.b)
        )
        p = _preconditioner(v, self.eps)
        root = np.sqrt(np.maximum(v, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            dv = np.where(root > 0, m * p * p / (2 * np.where(root > 0, root, 1.0)), 0.0)
        J = np.zeros((3 * d, 3 * d))
        if self.weight_decay and self.decoupled:
            J[:d, :d] = -self.weight_decay * np.eye(d)
        J[:d, d : 2 * d] = np.diag(-p)
        J[:d, 2 * d :] = np.diag(dv)
        J[d : 2 * d, :d] = ka * H
        J[d : 2 * d, d : 2 * d] = -ka * np.eye(d)
        J[2 * d :, :d] = kb * 2 * g[:, None] * H
        J[2 * d :, 2 * d :] = -kb * np.eye(d)
        return J

    def fields(self, problem, t, Y) -> dict[str, np.ndarray]:
        """The named parts of states ``Y`` shaped ``(n, 3d)``: ``theta``, ``v = θ'``, and the
        moments ``first_moment``, ``second_moment``."""
        d = Y.shape[1] // 3
        theta, m, v = Y[:, :d], Y[:, d : 2 * d], Y[:, 2 * d :]
        return {"theta": theta, "v": self._velocity(theta, m, v), "first_moment": m, "second_moment": v}

    def energy(self, problem, theta, v):
        """``E = f(θ)`` (the objective Adam minimises; coupled weight decay adds ``½λ‖θ‖²``)."""
        out = np.asarray(problem.value(theta), dtype=np.float64)
        if self.weight_decay and not self.decoupled:
            out = out + 0.5 * self.weight_decay * np.sum(theta * theta, axis=-1)
        return out

    def split_state(self, problem: Any, t: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`fields` and the energy along them (the ODE protocol's split of the states)."""
        out = self.fields(problem, t, Y)
        out["energy"] = self.energy(problem, out["theta"], out["v"])
        return out


def _betas(betas) -> tuple[float, float]:
    if isinstance(betas, (str, bytes)) or not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"`betas` must be a pair (beta1, beta2), got {describe(betas)}")
    return tuple(  # type: ignore[return-value]
        as_real(f"betas[{i}]", b, lower=0.0, upper=1.0, upper_inclusive=False) for i, b in enumerate(betas)
    )


@dataclass(frozen=True)
class SignGradientFlow:
    r"""The sign-gradient flow ``θ' = −∇f(θ)/(|∇f(θ)| + ε)`` (elementwise): Adam's fixed-β limit.

    With ``β₁, β₂`` fixed and ``lr → 0`` (time ``t = k·lr``), Adam's moments average over a
    vanishing time window, ``m̂ → ∇f`` and ``v̂ → ∇f²``, and the iterates follow this flow
    (Ma, Wu & E 2022, who call it the signGD flow). Each coordinate moves at speed
    ``|g|/(|g| + ε) ≤ 1`` against the sign of its gradient: sign descent where ``ε ≪ |∇f|``.
    It depends on the coordinate axes (``sign`` of a rotated vector is not the rotated sign),
    unlike gradient flow and the heavy-ball ODE. The iterates approach it at first order in
    ``lr/(1 − β₂)`` — only once ``lr ≪ 1 − β₂``
    (:func:`heavyball.adam_limits.compare_sign_flow`).

    State ``y = θ``; trajectories report ``v = θ'`` and ``energy = f(θ)``, which decreases
    (``df/dt = −Σ g²/(|g| + ε)``). The Jacobian ``−diag(ε/(|g| + ε)²)·∇²f`` goes to the
    implicit methods (it vanishes as ``ε → 0`` away from ``g = 0``: the flow is then
    piecewise constant and non-smooth where a gradient component changes sign).

    Parameters
    ----------
    eps : float, >= 0

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic([[1.0, 0.0], [0.0, 0.01]])
    >>> sol = hb.simulate(hb.SignGradientFlow(eps=1e-8), q, [1.0, 1.0], (0.0, 0.5), t_eval=[0.5])
    >>> np.round(sol.theta[-1], 5)               # both coordinates move at (nearly) unit speed
    array([0.5, 0.5])
    """

    eps: float = 1e-8

    order: ClassVar[int] = 1
    autonomous: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "eps", as_real("eps", self.eps, lower=0.0))

    def initial_state(self, problem, theta0, v0, t0):
        """``(t0, θ₀)``; a first-order flow takes no ``v0``."""
        if v0 is not None:
            raise ValueError(f"`v0` must be None for SignGradientFlow (a first-order flow), got {describe(v0)}")
        return float(t0), np.array(theta0, dtype=np.float64)

    def flow(self, problem, theta):
        """``−∇f/(|∇f| + ε)`` for ``theta`` shaped ``(..., d)`` (0 where ``∇f = 0``, also at ε = 0)."""
        g = np.asarray(problem.grad(theta), dtype=np.float64)
        return -g * _preconditioner(g * g, self.eps)

    def rhs(self, t, y, problem):
        """The flow on the state ``y = θ``."""
        return self.flow(problem, y)

    def jacobian(self, t, y, problem):
        """``−diag(ε/(|g| + ε)²)·∇²f(θ)``, or ``None`` without a Hessian."""
        H = _hessian(problem, y)
        if H is None:
            return None
        g = np.asarray(problem.grad(y), dtype=np.float64)
        p = _preconditioner(g * g, self.eps)
        return -(self.eps * p * p)[:, None] * H

    def energy(self, problem, theta, v):
        """``E = f(θ)``."""
        return np.asarray(problem.value(theta), dtype=np.float64)

    def split_state(self, problem: Any, t: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """``theta = Y``, ``v = θ'`` (the flow) and the energy ``f(θ)`` (the ODE protocol's split)."""
        v = np.asarray(self.flow(problem, Y), dtype=np.float64).reshape(Y.shape)
        return {"theta": Y, "v": v, "energy": self.energy(problem, Y, v)}
