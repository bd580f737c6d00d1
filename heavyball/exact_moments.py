r"""Exact moments and stationary laws of the linear methods under gradient noise, on quadratics.

On :math:`f(\theta) = \tfrac12\theta^\top A\theta - b^\top\theta` with gradients
:math:`g = \nabla f(\theta) + \xi`, :math:`\xi \sim N(0, \Sigma)` independent between steps,
every linear method (gradient descent, heavy ball, Nesterov; torch's ``SGD`` with any flags,
``HeavyBall``, ``NesterovLookahead``) is a linear recurrence driven by Gaussian noise, so the
iterates are Gaussian and their mean and covariance obey exact recursions — the noisy quadratic
model's curves without sampling.

The recurrence. In the eigenbasis :math:`A = V\,\mathrm{diag}(h)\,V^\top` each coordinate
:math:`z = V^\top\theta` follows the per-mode recurrence of its family (the 2×2 iteration
matrix :math:`M = \begin{pmatrix}T & -D\\ 1 & 0\end{pmatrix}` of ``rates.iteration_matrix``,
at the effective curvature :math:`\pm h + \lambda`):

.. math:: z_{k+1} = T z_k - D z_{k-1} + \gamma\,(\pm\tilde b) - \gamma\,\tilde\xi_k,
          \qquad z_{-1} = z_0,\qquad \tilde\xi = V^\top\xi \sim N(0, V^\top\Sigma V),

with ``γ = lr·(1 − dampening)`` after torch's undamped first step (``γ = lr`` at ``k = 0``;
no dampening where the momentum is 0, as torch keeps no buffer there). For the heavy ball,
gradient descent and ``NesterovLookahead`` the recorded iterate is :math:`z_k`; torch's
Nesterov parameters are the look-ahead points :math:`y_k = (1+\mu)z_k - \mu z_{k-1}` of that
recurrence (``NesterovLookahead``'s docstring: the change of variables), which is why the
noise enters only the first component: in torch's own state ``(θ, b)`` it enters both.

Moments. With :math:`s_k = (z_k, z_{k-1})` per mode, the mean follows
:math:`m_{k+1} = M m_k + u` and the covariance of every *pair* of modes ``(i, j)`` the
discrete Lyapunov recursion :math:`P^{ij}_{k+1} = M_i P^{ij}_k M_j^\top + \gamma^2
\tilde\Sigma_{ij} e_1e_1^\top` (modes decouple in the dynamics but not in the noise unless
:math:`\tilde\Sigma` is diagonal — isotropic noise, or noise proportional to ``A`` — in which
case only the ``d`` diagonal pairs are carried). The stationary law solves the discrete
Lyapunov (Stein) equation :math:`P = M_i P M_j^\top + Q` per pair, as a 4×4 linear system; it
exists iff every mode's spectral radius is below 1. Expected loss:
:math:`\mathbb E f(\theta) - f^* = \tfrac12\operatorname{tr}(A\,\mathrm{Cov}\,\theta) +
f(\mathbb E\theta) - f^*`.

For the stochastic differential equation :class:`heavyball.HeavyBallSDE`, :func:`moments` and
:func:`stationary` hand over to :mod:`heavyball.sde` (continuous Lyapunov equation).

References
----------
Zhang et al. (2019), "Which algorithmic choices matter at which batch sizes? Insights from a
noisy quadratic model", NeurIPS; Mandt, Hoffman & Blei (2017), JMLR (stationary covariance
from a Lyapunov equation); Goh (2017), "Why Momentum Really Works", Distill.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from . import recurrences
from ._validation import as_int, check_theta, describe
from .noise import GradientNoise, NoStationaryLawError
from .optimizers import SGD, _Optimizer
from .problems import Quadratic
from .sde import HeavyBallSDE, sde_moments, sde_stationary

__all__ = ["Moments", "NoStationaryLawError", "Stationary", "linear_noise_model", "moments", "stationary"]

#: off-diagonal entries of ``VᵀΣV`` below this fraction of its largest diagonal entry are
#: rounding of an exactly diagonal matrix (isotropic or Hessian-proportional noise); the modes'
#: noises are then independent and only the d diagonal pairs are carried
ALIGNED_RTOL = 1e-13


class Moments(NamedTuple):
    """Exact mean and covariance of the iterates of a noisy linear method.

    Attributes
    ----------
    steps : ndarray of int, shape (n,)
        The recorded steps.
    mean : ndarray, shape (n, *batch, d)
        :math:`\\mathbb E\\,\\theta_k`.
    cov : ndarray, shape (n, *batch, d, d)
        :math:`\\mathrm{Cov}\\,\\theta_k`.
    expected_loss : ndarray, shape (n, *batch)
        :math:`\\mathbb E f(\\theta_k) - f^*` (``f* = 0`` when ``f`` has no minimiser).
    """

    steps: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    expected_loss: np.ndarray


class Stationary(NamedTuple):
    """The stationary (Gaussian) law of the iterates.

    Attributes
    ----------
    mean : ndarray, shape (*batch, d)
        The fixed point (the minimiser of ``f`` plus weight decay).
    cov : ndarray, shape (*batch, d, d)
        The stationary covariance of θ.
    expected_loss : ndarray, shape (*batch)
        :math:`\\mathbb E f(\\theta) - f^*` under the stationary law.
    """

    mean: np.ndarray
    cov: np.ndarray
    expected_loss: np.ndarray


@dataclasses.dataclass(frozen=True)
class LinearNoiseModel:
    """One optimiser as a noisy per-mode recurrence (see the module notes).

    ``family`` is the recurrence family, ``lr`` the per-configuration step ``γ`` after the first
    step, ``lr_first`` the step of the first update, ``momentum`` ``μ``, ``sign`` −1 when
    maximising, ``shift`` the weight decay, ``lookahead`` True when the recorded iterate is
    torch's Nesterov look-ahead point ``(1+μ)z_k − μz_{k−1}``. Arrays have the batch shape.
    """

    family: str
    lr: Any
    lr_first: Any
    momentum: Any
    sign: float
    shift: Any
    lookahead: bool


def linear_noise_model(optimizer) -> LinearNoiseModel:
    """Map a linear optimiser to its noisy per-mode recurrence (``ValueError`` naming the
    optimiser for Adam, a schedule or per-coordinate hyperparameters).

    The family and coefficients come from :func:`heavyball.recurrences.recurrence_of`; the one
    difference is torch's Nesterov, whose look-ahead points are not Markov once the gradient is
    noisy: it is carried as the textbook recurrence (first step ``γ``, not ``γ(1 + μ)``) and
    recorded through the look-ahead combination."""
    if not isinstance(optimizer, _Optimizer):
        raise TypeError(
            f"`optimizer` must be SGD, HeavyBall, NesterovLookahead or HeavyBallSDE, got {describe(optimizer)}"
        )
    rec = recurrences.recurrence_of(optimizer)
    lookahead = isinstance(optimizer, SGD) and bool(optimizer.nesterov)
    lr = np.asarray(rec.lr, dtype=np.float64)
    mu = np.asarray(rec.momentum, dtype=np.float64)
    first = lr if lookahead else np.asarray(rec.first_lr, dtype=np.float64)
    shift = np.asarray(rec.shift, dtype=np.float64)
    shape = np.broadcast_shapes(lr.shape, mu.shape, first.shape, shift.shape)
    return LinearNoiseModel(
        family=rec.family,
        lr=np.broadcast_to(lr, shape).astype(np.float64),
        lr_first=np.broadcast_to(first, shape).astype(np.float64),
        momentum=np.broadcast_to(mu, shape).astype(np.float64),
        sign=float(rec.sign),
        shift=np.broadcast_to(shift, shape).astype(np.float64),
        lookahead=lookahead,
    )


def _check_q(q) -> Quadratic:
    if not isinstance(q, Quadratic):
        raise TypeError(f"`q` must be a Quadratic (exact moments need a linear gradient), got {describe(q)}")
    return q


def _check_noise(noise, d: int) -> GradientNoise | None:
    if noise is None:
        return None
    if not isinstance(noise, GradientNoise):
        raise TypeError(f"`noise` must be a GradientNoise or None, got {describe(noise)}")
    noise.check_dim(d)
    return noise


class _Setup(NamedTuple):
    T: np.ndarray  # (*batch, d)
    D: np.ndarray
    T0: np.ndarray  # first step
    D0: np.ndarray
    lr: np.ndarray  # (*batch)
    lr0: np.ndarray
    mu: np.ndarray
    forcing: np.ndarray  # (*batch, d): γ·sign·b̃ after the first step
    forcing0: np.ndarray
    V: np.ndarray
    h: np.ndarray
    noise: np.ndarray | None  # VᵀΣV: (d, d), or its diagonal (d,) when aligned
    aligned: bool
    lookahead: bool
    z_star: np.ndarray | None  # Vᵀθ* of f (for the loss), None without a minimiser


def _coefficients(model: LinearNoiseModel, h_eff, lr) -> tuple[np.ndarray, np.ndarray]:
    """``T`` and ``D`` of the family's iteration matrix (the table of :mod:`heavyball.recurrences`)."""
    T, D = recurrences.trace_det(model.family, lr[..., None] * h_eff, model.momentum[..., None])
    return np.broadcast_arrays(np.asarray(T, dtype=np.float64), np.asarray(D, dtype=np.float64))


def _setup(optimizer, q, noise) -> _Setup:
    model = linear_noise_model(optimizer)
    q = _check_q(q)
    d = q.dim
    noise = _check_noise(noise, d)
    h, V = q.eigenvalues, q.eigenvectors
    h_eff = model.sign * h + model.shift[..., None]
    T, D = _coefficients(model, h_eff, model.lr)
    T0, D0 = _coefficients(model, h_eff, model.lr_first)
    bt = V.T @ q.b
    forcing = model.lr[..., None] * (model.sign * bt)
    forcing0 = model.lr_first[..., None] * (model.sign * bt)
    aligned = True
    S = None
    if noise is not None:
        S = V.T @ noise.covariance(d) @ V
        S = 0.5 * (S + S.T)
        diag = np.diag(S).copy()
        off = S - np.diag(diag)
        aligned = bool(np.max(np.abs(off), initial=0.0) <= ALIGNED_RTOL * max(float(np.max(diag)), 1e-300))
        S = diag if aligned else S
    xstar = q.minimizer
    z_star = None if xstar is None else V.T @ xstar
    return _Setup(T, D, T0, D0, model.lr, model.lr_first, model.momentum, forcing, forcing0, V, h, S, aligned,
                  model.lookahead, z_star)  # fmt: skip


def _pair(x, aligned):
    """``(x_i, x_j)`` broadcast over the pair axes: ``(…, d)`` aligned, else ``(…, d, 1)``, ``(…, 1, d)``."""
    return (x, x) if aligned else (x[..., :, None], x[..., None, :])


def _output(s: _Setup):
    """The recorded iterate as ``o0·z_k + o1·z_{k−1}`` (per configuration)."""
    if s.lookahead:
        return 1.0 + s.mu, -s.mu
    return np.ones_like(s.mu), np.zeros_like(s.mu)


def _eigen_cov(P, o0, o1, aligned):
    """Covariance of the output in the eigenbasis from the pair blocks ``P = (P00, P01, P10, P11)``."""
    P00, P01, P10, P11 = P
    if aligned:
        a, c = o0[..., None], o1[..., None]
    else:
        a, c = o0[..., None, None], o1[..., None, None]
    return a * a * P00 + a * c * (P01 + P10) + c * c * P11


def _to_theta(C, V, aligned):
    if aligned:
        return (V * C[..., None, :]) @ V.T
    return V @ C @ V.T


def _loss(h, z_mean, C, z_star, aligned):
    """``½ Σ h_i C_ii + ½ Σ h_i (m_i − z*_i)²`` (``f* = 0`` without a minimiser: ``½ m̃ᵀHm̃ − b̃ᵀm̃``)."""
    var = C if aligned else np.diagonal(C, axis1=-2, axis2=-1)
    out = 0.5 * np.sum(h * var, axis=-1)
    if z_star is not None:
        e = z_mean - z_star
        return out + 0.5 * np.sum(h * e * e, axis=-1)
    return out  # pragma: no cover - callers pass quadratics with a minimiser in practice


#: recorded steps whose outputs (mean, covariance, loss in the original basis) are formed together
RECORD_BLOCK = 256


class _StepCoefficients:
    """The coefficients of one step of the moment recursions, with the products of the pair
    recursion formed once (``T_iT_j`` etc.: the same numbers as formed at each step)."""

    def __init__(self, s: _Setup, T: np.ndarray, D: np.ndarray, u: np.ndarray, lr: np.ndarray):
        self.T, self.D, self.u = T, D, u
        self.Ti, self.Tj = _pair(T, s.aligned)
        self.Di, self.Dj = _pair(D, s.aligned)
        self.TT, self.TD = self.Ti * self.Tj, self.Ti * self.Dj
        self.DT, self.DD = self.Di * self.Tj, self.Di * self.Dj
        self.Q = None
        if s.noise is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                self.Q = (lr * lr)[(...,) + (None,) * (1 if s.aligned else 2)] * s.noise


def moments(optimizer, q, theta0, steps, /, *, noise: GradientNoise | None = None, every: int = 1) -> Any:
    r"""Exact mean, covariance and expected loss of a noisy linear method (or of the SDE) on ``q``.

    Parameters
    ----------
    optimizer : SGD, HeavyBall, NesterovLookahead, or HeavyBallSDE
        A linear optimiser with constant hyperparameters; arrays shaped ``(*batch, 1)`` give a
        batch of configurations (as in ``iterate``). A :class:`heavyball.HeavyBallSDE` hands
        over to :func:`heavyball.sde.sde_moments` (then ``steps`` are the times ``t``).
    q : Quadratic
    theta0 : array_like, shape (d,) or (*batch, d)
        The deterministic start.
    steps : int
        Number of steps (the records are steps ``0, every, 2·every, …`` and ``steps``).
    noise : GradientNoise, optional
        The gradient noise; ``None`` gives the noiseless iterates (zero covariance).
    every : int
        Recording stride, ``>= 1``.

    Returns
    -------
    Moments
        ``steps`` (n,), ``mean`` (n, *batch, d), ``cov`` (n, *batch, d, d) and
        ``expected_loss`` (n, *batch).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic([[1.0]])
    >>> mo = hb.moments(hb.SGD(lr=0.1), q, [1.0], 2, noise=hb.GradientNoise.isotropic(1.0))
    >>> mo.mean[:, 0], mo.cov[:, 0, 0]             # θ_{k+1} = 0.9 θ_k − 0.1 ξ_k
    (array([1.  , 0.9 , 0.81]), array([0.    , 0.01  , 0.0181]))
    """
    if isinstance(optimizer, HeavyBallSDE):
        if every != 1:
            raise ValueError("`every` applies to the discrete methods; give the SDE's times `t` directly")
        if noise is not None:
            raise ValueError("`noise` is part of the HeavyBallSDE (its `sigma`); pass noise=None")
        return sde_moments(optimizer, q, theta0, steps)
    steps = as_int("steps", steps, minimum=0)
    every = as_int("every", every, minimum=1)
    s = _setup(optimizer, q, noise)
    d = q.dim
    theta0 = check_theta("theta0", theta0, d, finite=True).astype(np.float64)
    batch = np.broadcast_shapes(theta0.shape[:-1], s.lr.shape)
    record = np.unique(np.r_[np.arange(0, steps + 1, every), steps])
    n = record.size
    z0 = np.broadcast_to(theta0 @ s.V, batch + (d,))
    mean_a, mean_c = z0.copy(), z0.copy()
    pair_shape = batch + ((d,) if s.aligned else (d, d))
    P00, P01, P10, P11 = (np.zeros(pair_shape) for _ in range(4))
    o0, o1 = _output(s)
    o0, o1 = np.broadcast_to(o0, batch), np.broadcast_to(o1, batch)
    out_mean = np.empty((n,) + batch + (d,))
    out_cov = np.empty((n,) + batch + (d, d))
    out_loss = np.empty((n,) + batch)
    first = _StepCoefficients(s, s.T0, s.D0, s.forcing0, np.broadcast_to(s.lr0, batch))
    later = _StepCoefficients(s, s.T, s.D, s.forcing, np.broadcast_to(s.lr, batch))
    # the states of up to RECORD_BLOCK recorded steps, turned into outputs together
    hold = min(n, RECORD_BLOCK)
    held_a, held_c = np.empty((hold,) + batch + (d,)), np.empty((hold,) + batch + (d,))
    held_p = np.empty((4, hold) + pair_shape)

    def flush(r: int, count: int) -> None:
        ma, mc, P = held_a[:count], held_c[:count], held_p[:, :count]
        zm = o0[..., None] * ma + o1[..., None] * mc
        C = _eigen_cov((P[0], P[1], P[2], P[3]), o0, o1, s.aligned)
        out_mean[r : r + count] = zm @ s.V.T
        out_cov[r : r + count] = _to_theta(C, s.V, s.aligned)
        out_loss[r : r + count] = _loss(s.h, zm, C, s.z_star, s.aligned)

    r = done = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            if k == record[r]:
                j = r - done
                held_a[j], held_c[j] = mean_a, mean_c
                held_p[0, j], held_p[1, j], held_p[2, j], held_p[3, j] = P00, P01, P10, P11
                r += 1
                if r - done == hold or r == n:
                    flush(done, r - done)
                    done = r
                if r == n:
                    break
            c = first if k == 0 else later
            mean_a, mean_c = c.T * mean_a - c.D * mean_c + c.u, mean_a
            n00 = c.TT * P00 - c.TD * P01 - c.DT * P10 + c.DD * P11
            if c.Q is not None:
                n00 = n00 + c.Q
            n01 = c.Ti * P00 - c.Di * P10
            n10 = c.Tj * P00 - c.Dj * P01
            P00, P01, P10, P11 = n00, n01, n10, P00
    return Moments(record, out_mean, out_cov, out_loss)


def _stein(T, D, Q, aligned):
    """Solve ``P = M_i P M_jᵀ + Q e₁e₁ᵀ`` for every pair (4×4 systems, row-major vec)."""
    Ti, Tj = _pair(T, aligned)
    Di, Dj = _pair(D, aligned)
    Ti, Tj, Di, Dj, Q = np.broadcast_arrays(Ti, Tj, Di, Dj, Q)
    Mi = np.zeros(Ti.shape + (2, 2))
    Mi[..., 0, 0], Mi[..., 0, 1], Mi[..., 1, 0] = Ti, -Di, 1.0
    Mj = np.zeros(Tj.shape + (2, 2))
    Mj[..., 0, 0], Mj[..., 0, 1], Mj[..., 1, 0] = Tj, -Dj, 1.0
    K = (Mi[..., :, None, :, None] * Mj[..., None, :, None, :]).reshape(Ti.shape + (4, 4))
    rhs = np.zeros(Ti.shape + (4,))
    rhs[..., 0] = Q
    x = np.linalg.solve(np.eye(4) - K, rhs[..., None])[..., 0]
    return x[..., 0], x[..., 1], x[..., 2], x[..., 3]


def stationary(optimizer, q, noise: GradientNoise | None = None, /, *, scheme: str | None = None, dt=None) -> Any:
    r"""The stationary law of a noisy linear method (or of the SDE) on ``q``.

    Solves the discrete Lyapunov equation of the per-mode recurrence (module notes); the mean
    is the fixed point. For a :class:`heavyball.HeavyBallSDE` (``noise`` must then be ``None``)
    hands over to :func:`heavyball.sde.sde_stationary` (continuous Lyapunov equation).

    For torch's SGD with momentum ``μ`` on one curvature ``h`` with noise variance ``σ²``
    this is :math:`\operatorname{Var}\theta = \frac{\gamma\sigma^2(1+\mu)}{h(1-\mu)(2(1+\mu) -
    \gamma h)}`, which for small ``γ`` is the Gibbs law at temperature
    :math:`T = \gamma\sigma^2/(2(1-\mu))`.

    Returns
    -------
    Stationary
        ``mean`` (*batch, d), ``cov`` (*batch, d, d), ``expected_loss`` (*batch).

    Raises
    ------
    NoStationaryLawError
        (a ``ValueError``) if some configuration has a mode with spectral radius ``>= 1``.

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic([[2.0]])
    >>> law = hb.stationary(hb.SGD(lr=0.1, momentum=0.5), q, hb.GradientNoise.isotropic(1.0))
    >>> round(float(law.cov[0, 0]), 12)       # 0.1·1.5 / (2·0.5·(3 − 0.2)) = 0.15/2.8
    0.053571428571
    """
    if isinstance(optimizer, HeavyBallSDE):
        if noise is not None:
            raise ValueError("`noise` is part of the HeavyBallSDE (its `sigma`); pass noise=None")
        return sde_stationary(optimizer, q, scheme=scheme, dt=dt)
    if scheme is not None or dt is not None:
        raise ValueError(
            "`scheme` and `dt` choose a discretisation of a HeavyBallSDE; the optimiser is already discrete"
        )
    s = _setup(optimizer, q, noise)
    # the largest root modulus of z² − Tz + D over the modes, per configuration
    root = np.sqrt((s.T * s.T - 4.0 * s.D).astype(complex))
    radius = np.maximum(np.abs(s.T + root), np.abs(s.T - root)).max(axis=-1) / 2.0
    if np.any(~(radius < 1.0)):
        worst = float(np.nanmax(np.where(np.isnan(radius), np.inf, radius)))
        raise NoStationaryLawError(
            f"`optimizer` {optimizer!r} has no stationary law on `q`: spectral radius {worst:.6g} >= 1 "
            "(the iterates diverge or their variance grows without bound)"
        )
    d = q.dim
    batch = s.lr.shape
    z_mean = s.forcing / (1.0 - s.T + s.D)
    lr2 = s.lr * s.lr
    if s.noise is None:
        Q = np.zeros(batch + ((d,) if s.aligned else (d, d)))
    else:
        Q = lr2[(...,) + (None,) * (1 if s.aligned else 2)] * s.noise
    P = _stein(s.T, s.D, Q, s.aligned)
    o0, o1 = _output(s)
    C = _eigen_cov(P, o0, o1, s.aligned)
    return Stationary(z_mean @ s.V.T, _to_theta(C, s.V, s.aligned), _loss(s.h, z_mean, C, s.z_star, s.aligned))
