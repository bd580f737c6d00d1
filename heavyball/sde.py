r"""The heavy-ball stochastic differential equation (underdamped Langevin dynamics).

.. math:: d\theta = v\,dt, \qquad m\,dv = -\nabla f(\theta)\,dt - c\,v\,dt + \sigma\,dW_t,

with ``σ`` a scalar or a ``(d, d)`` matrix (force-noise covariance :math:`\sigma\sigma^\top`).
It is the continuous-time limit of the heavy ball with gradient noise: under the velocity-form
map of ``discretize``/``to_torch`` (``lr = Δt²/m``, ``momentum = 1 − cΔt/m``) gradient noise
of covariance :math:`\Sigma` per step is force noise :math:`\sigma\sigma^\top = \Sigma\,\Delta t`
(:meth:`HeavyBallSDE.from_discrete`, :meth:`HeavyBallSDE.to_discrete`).

On a quadratic :math:`f = \tfrac12\theta^\top A\theta - b^\top\theta` the state
:math:`X = (\theta, v)` is an Ornstein–Uhlenbeck process :math:`dX = F(X - X^*)\,dt + G\,dW`,
:math:`F = \begin{pmatrix}0 & I\\ -A/m & -(c/m)I\end{pmatrix}`,
:math:`G = \begin{pmatrix}0\\ \sigma/m\end{pmatrix}`. Its law is Gaussian with mean
:math:`X^* + e^{Ft}(X_0 - X^*)` and covariance :math:`P(t) = P_\infty - e^{Ft}P_\infty e^{F^\top t}`
where :math:`FP_\infty + P_\infty F^\top + GG^\top = 0` (the continuous Lyapunov equation; when
``F`` is not stable, Van Loan's (1978) block matrix exponential gives ``P(t)`` instead). The
stationary law (``c > 0``, ``A`` positive definite, scalar ``σ``) is the Gibbs law
:math:`\propto \exp(-(f(\theta) + \tfrac12 m\|v\|^2)/T)` at temperature :math:`T = \sigma^2/(2c)`:
:math:`\operatorname{Var}\theta = \sigma^2/(2ch)` per curvature, :math:`\operatorname{Var} v =
\sigma^2/(2cm)`, :math:`\operatorname{Cov}(\theta, v) = 0` (fluctuation–dissipation).

Sampling schemes of :func:`sample_paths`:

* ``"euler-maruyama"``: :math:`\theta' = \theta + \Delta t\,v`,
  :math:`v' = v + \tfrac{\Delta t}{m}(-\nabla f(\theta) - cv) + \tfrac{\sqrt{\Delta t}}{m}\sigma z`
  (weak order 1: its stationary variance is off by :math:`O(\Delta t)`);
* ``"baoab"`` (Leimkuhler & Matthews 2013): half kick B, half drift A, the exact
  Ornstein–Uhlenbeck step O of the friction and noise,
  :math:`v' = av + \sqrt{(1-a^2)/(2cm)}\,\sigma z` with :math:`a = e^{-c\Delta t/m}`, then A and
  B again. On a quadratic its stationary configurational law is exactly the Gibbs law at every
  stable step;
* ``"exact"`` (quadratics only): the Gaussian transition over each interval.

References
----------
B. Leimkuhler, C. Matthews (2013), "Rational construction of stochastic numerical methods for
molecular sampling", Appl. Math. Res. Express. C. F. Van Loan (1978), "Computing integrals
involving the matrix exponential", IEEE Trans. Automat. Control. G. A. Pavliotis (2014),
"Stochastic Processes and Applications" (the Langevin equation and its Gibbs law).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg

from ._validation import as_choice, as_float_array, as_int, as_real, check_theta, describe
from .discretization import to_torch
from .noise import GradientNoise, NormalStream, NoStationaryLawError
from .optimizers import SGD, HeavyBall
from .problems import Quadratic

__all__ = [
    "SCHEMES",
    "HeavyBallSDE",
    "SDEMoments",
    "SDEStationary",
    "SamplePaths",
    "sample_paths",
    "scheme_map",
    "sde_moments",
    "sde_stationary",
    "van_loan",
]

#: the sampling schemes of :func:`sample_paths`
SCHEMES = ("euler-maruyama", "baoab", "exact")
#: bytes ``sample_paths`` may allocate for its records (1 GiB)
MEMORY_BUDGET = 2**30


@dataclasses.dataclass(frozen=True, eq=False)
class HeavyBallSDE:
    r"""``m·dv = −∇f(θ)dt − c·v·dt + σ·dW``, ``dθ = v·dt``: the heavy ball with force noise.

    Parameters
    ----------
    m : float
        Mass, ``> 0``.
    c : float
        Friction, ``>= 0``.
    sigma : float or array_like, shape (d, d)
        Noise amplitude: a scalar ``>= 0`` (noise ``σ·dW`` on every coordinate) or a matrix
        (force-noise covariance ``σσᵀ`` per unit time).

    Examples
    --------
    >>> import heavyball as hb
    >>> sde = hb.HeavyBallSDE(m=1.0, c=0.5, sigma=0.2)
    >>> round(sde.temperature, 12)          # σ²/(2c)
    0.04
    >>> law = hb.stationary(sde, hb.Quadratic([[2.0]]))
    >>> round(float(law.cov[0, 0]), 12), round(float(law.cov_v[0, 0]), 12)   # T/h, T/m
    (0.02, 0.04)
    """

    m: Any
    c: Any
    sigma: Any

    def __post_init__(self):
        object.__setattr__(self, "m", as_real("m", self.m, lower=0.0, lower_inclusive=False))
        object.__setattr__(self, "c", as_real("c", self.c, lower=0.0))
        sig = as_float_array("sigma", self.sigma, dtype=np.float64, copy=True)
        if sig.ndim == 0:
            sigma: Any = as_real("sigma", float(sig), lower=0.0)
        elif sig.ndim == 2 and sig.shape[0] == sig.shape[1] and sig.shape[0] > 0:
            if not np.all(np.isfinite(sig)):
                raise ValueError(f"`sigma` must be finite, got {describe(self.sigma)}")
            sig.flags.writeable = False
            sigma = sig
        else:
            raise ValueError(f"`sigma` must be a scalar >= 0 or a square (d, d) matrix, got shape {sig.shape}")
        object.__setattr__(self, "sigma", sigma)

    @property
    def temperature(self) -> float:
        r"""``T = σ²/(2c)`` for a scalar ``σ`` (``inf`` without friction): the stationary law is
        :math:`\propto e^{-f/T}` in θ."""
        if isinstance(self.sigma, np.ndarray):
            raise ValueError("`sigma` is a matrix: the temperature is defined for a scalar sigma")
        return math.inf if self.c == 0 else self.sigma**2 / (2.0 * self.c)

    def sigma_matrix(self, d: int) -> np.ndarray:
        """``σ`` as a ``(d, d)`` matrix."""
        if isinstance(self.sigma, np.ndarray):
            if self.sigma.shape[0] != d:
                raise ValueError(f"`sigma` has shape {self.sigma.shape}, but the problem has dimension {d}")
            return np.array(self.sigma)
        return np.eye(d) * self.sigma

    @classmethod
    def from_discrete(cls, optimizer, noise: GradientNoise, *, m: float = 1.0) -> tuple[HeavyBallSDE, float]:
        r"""The SDE and step ``Δt`` of a noisy heavy ball under the velocity-form map.

        ``SGD(lr, momentum)`` (or ``HeavyBall(eta, mu, dt)``, ``lr = η·Δt``) with gradient noise
        :math:`\Sigma` per step is the semi-implicit discretisation (``to_torch``) of the SDE with
        mass ``m``, ``Δt = √(lr·m)``, ``c = (1 − μ)·m/Δt`` and :math:`\sigma\sigma^\top = \Sigma\Delta t`
        (``σ = √(Σ Δt)``, the symmetric square root; a scalar for isotropic noise).
        """
        if not isinstance(optimizer, (SGD, HeavyBall)) or (isinstance(optimizer, SGD) and optimizer.nesterov):
            raise TypeError(f"`optimizer` must be SGD (heavy ball) or HeavyBall, got {describe(optimizer)}")
        if not isinstance(noise, GradientNoise):
            raise TypeError(f"`noise` must be a GradientNoise, got {describe(noise)}")
        m = as_real("m", m, lower=0.0, lower_inclusive=False)
        if isinstance(optimizer, SGD):
            lr, mu = optimizer.lr, optimizer.momentum
            if (
                callable(lr)
                or np.ndim(lr)
                or np.ndim(mu)
                or optimizer.dampening
                or optimizer.weight_decay
                or optimizer.maximize
            ):
                raise ValueError("`optimizer` must have scalar lr and momentum, no dampening, weight decay or maximize")
        else:
            if callable(optimizer.eta) or np.ndim(optimizer.eta) or np.ndim(optimizer.mu) or np.ndim(optimizer.dt):
                raise ValueError("`optimizer` must have scalar eta, mu and dt")
            lr, mu = optimizer.eta * optimizer.dt, optimizer.mu
        lr, mu = float(lr), float(mu)
        if lr <= 0:
            raise ValueError(f"`optimizer` must have lr > 0, got lr={lr}")
        dt = math.sqrt(lr * m)
        c = (1.0 - mu) * m / dt
        if noise.cov is None:
            sigma: Any = float(noise.sigma) * math.sqrt(dt)
        else:
            lam, V = np.linalg.eigh(noise.cov * dt)
            sigma = (V * np.sqrt(np.clip(lam, 0.0, None))) @ V.T
        return cls(m=m, c=c, sigma=sigma), dt

    def to_discrete(self, dt) -> tuple[SGD, GradientNoise]:
        """``SGD(lr = Δt²/m, momentum = 1 − cΔt/m)`` (``to_torch``) and the gradient noise
        :math:`\\Sigma = \\sigma\\sigma^\\top/\\Delta t` per step: the inverse of :meth:`from_discrete`."""
        dt = as_real("dt", dt, lower=0.0, lower_inclusive=False)
        hyper = to_torch(self.m, self.c, dt)
        if isinstance(self.sigma, np.ndarray):
            noise = GradientNoise(cov=self.sigma @ self.sigma.T / dt)
        else:
            noise = GradientNoise.isotropic(self.sigma / math.sqrt(dt))
        return SGD(lr=float(hyper["lr"]), momentum=float(hyper["momentum"])), noise

    def __repr__(self) -> str:
        sig = describe(self.sigma) if isinstance(self.sigma, np.ndarray) else f"{self.sigma:g}"
        return f"HeavyBallSDE(m={self.m:g}, c={self.c:g}, sigma={sig})"


class SDEMoments(NamedTuple):
    """Exact moments of the SDE on a quadratic at the times ``t``.

    ``mean`` (n, *batch, d), ``cov`` (n, *batch, d, d) of θ, ``expected_loss`` (n, *batch)
    ``= E f(θ) − f*``, and the velocity's ``mean_v``, ``cov_v``."""

    t: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    expected_loss: np.ndarray
    mean_v: np.ndarray
    cov_v: np.ndarray


class SDEStationary(NamedTuple):
    """The stationary law: ``mean`` (d,), ``cov`` (d, d) of θ, ``expected_loss``, ``cov_v`` (d, d)."""

    mean: np.ndarray
    cov: np.ndarray
    expected_loss: float
    cov_v: np.ndarray


class SamplePaths(NamedTuple):
    """Sampled paths: ``t`` (n_t,), ``theta`` and ``v`` shaped ``(n_t, samples, d)``."""

    t: np.ndarray
    theta: np.ndarray
    v: np.ndarray


def _check_sde(sde) -> HeavyBallSDE:
    if not isinstance(sde, HeavyBallSDE):
        raise TypeError(f"`sde` must be a HeavyBallSDE, got {describe(sde)}")
    return sde


def _check_quadratic(q, name: str = "q") -> Quadratic:
    if not isinstance(q, Quadratic):
        raise TypeError(f"`{name}` must be a Quadratic (the SDE is linear only there), got {describe(q)}")
    return q


def _linear(sde: HeavyBallSDE, q: Quadratic):
    """``F`` (2d, 2d) and ``G`` (2d, d) of ``dX = F(X − X*)dt + G dW``."""
    d = q.dim
    F = np.zeros((2 * d, 2 * d))
    F[:d, d:] = np.eye(d)
    F[d:, :d] = -q.A / sde.m
    F[d:, d:] = -np.eye(d) * (sde.c / sde.m)
    G = np.zeros((2 * d, d))
    G[d:] = sde.sigma_matrix(d) / sde.m
    return F, G


def _stable(sde: HeavyBallSDE, q: Quadratic) -> bool:
    return sde.c > 0 and q.eigenvalues[0] > q.zero_tol


def van_loan(F: np.ndarray, GGt: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    r"""``(e^{Ft}, ∫₀ᵗ e^{Fs} GGᵀ e^{Fᵀs} ds)`` by Van Loan's (1978) block exponential:
    :math:`\exp\begin{pmatrix}-F & GG^\top\\ 0 & F^\top\end{pmatrix}t =
    \begin{pmatrix}\cdot & \Phi^{-1}Q\\ 0 & \Phi^\top\end{pmatrix}`."""
    n = F.shape[0]
    C = np.zeros((2 * n, 2 * n))
    C[:n, :n] = -F
    C[:n, n:] = GGt
    C[n:, n:] = F.T
    E = scipy.linalg.expm(C * t)
    Phi = E[n:, n:].T
    Q = Phi @ E[:n, n:]
    return Phi, 0.5 * (Q + Q.T)


def _transition(F, GGt, Pinf, dt):
    """``Φ(Δt)`` and the transition covariance ``Q(Δt)``: ``P∞ − ΦP∞Φᵀ`` when ``F`` is stable."""
    if Pinf is None:
        return van_loan(F, GGt, dt)
    Phi = scipy.linalg.expm(F * dt)
    Q = Pinf - Phi @ Pinf @ Phi.T
    return Phi, 0.5 * (Q + Q.T)


def _lyapunov(F, GGt):
    P = scipy.linalg.solve_continuous_lyapunov(F, -GGt)
    return 0.5 * (P + P.T)


def _times(t) -> np.ndarray:
    t = as_float_array("t", t, dtype=np.float64, finite=True)
    t = np.atleast_1d(t)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"`t` must be a non-empty 1-D array of times, got shape {t.shape}")
    if t[0] < 0 or np.any(np.diff(t) < 0):
        raise ValueError(f"`t` must be non-negative and non-decreasing, got {describe(t)}")
    return t


def _start(q, theta0, v0, d):
    theta0 = check_theta("theta0", theta0, d, finite=True).astype(np.float64)
    v0 = np.zeros(d) if v0 is None else check_theta("v0", v0, d, finite=True).astype(np.float64)
    return theta0, v0


def _expected_loss(A, mean, cov, xstar):
    e = mean - xstar
    return 0.5 * np.einsum("...ij,ij->...", cov, A) + 0.5 * np.einsum("...i,ij,...j->...", e, A, e)


def sde_moments(sde, q, theta0, t, *, v0=None) -> SDEMoments:
    r"""Exact mean and covariance of ``(θ, v)`` at the times ``t`` from a deterministic start.

    Uses :math:`P(t) = P_\infty - e^{Ft}P_\infty e^{F^\top t}` with :math:`P_\infty` from the
    continuous Lyapunov equation when the SDE is stable (``c > 0``, ``A`` positive definite),
    and Van Loan's block exponential otherwise. ``theta0`` may carry batch axes.
    """
    sde, q = _check_sde(sde), _check_quadratic(q)
    d = q.dim
    t = _times(t)
    theta0, v0 = _start(q, theta0, v0, d)
    xstar = q.minimizer
    if xstar is None:
        raise ValueError("`q` must have a minimiser (the SDE's moments are reported relative to it)")
    F, G = _linear(sde, q)
    GGt = G @ G.T
    Pinf = _lyapunov(F, GGt) if _stable(sde, q) else None
    batch = np.broadcast_shapes(theta0.shape[:-1], v0.shape[:-1])
    X0 = np.concatenate(np.broadcast_arrays(theta0, v0), axis=-1) if batch else np.r_[theta0, v0]
    Xs = np.r_[xstar, np.zeros(d)]
    n = t.size
    mean = np.empty((n,) + batch + (2 * d,))
    cov = np.empty((n, 2 * d, 2 * d))
    for i, ti in enumerate(t):
        Phi, Q = _transition(F, GGt, Pinf, float(ti))
        mean[i] = Xs + (X0 - Xs) @ Phi.T
        cov[i] = Q
    cov_b = np.broadcast_to(cov.reshape((n,) + (1,) * len(batch) + cov.shape[1:]), (n,) + batch + cov.shape[1:])
    cth, cv = cov_b[..., :d, :d].copy(), cov_b[..., d:, d:].copy()
    loss = _expected_loss(q.A, mean[..., :d], cth, xstar)
    return SDEMoments(t, mean[..., :d].copy(), cth, loss, mean[..., d:].copy(), cv)


def sde_stationary(sde, q, *, scheme: str | None = None, dt=None) -> SDEStationary:
    r"""The stationary law of the SDE (``scheme=None``), or of its discretisation by ``scheme``
    with step ``dt`` (the discrete Lyapunov equation of the scheme's linear map on ``q``).

    Raises :class:`~heavyball.noise.NoStationaryLawError` without friction, with a curvature
    ``<= 0``, or (for a scheme) when the step is unstable.
    """
    sde, q = _check_sde(sde), _check_quadratic(q)
    d = q.dim
    if not _stable(sde, q):
        raise NoStationaryLawError(
            f"`sde` {sde!r} has no stationary law on `q`: it needs friction c > 0 and every curvature > 0 "
            f"(got c = {sde.c:g}, smallest curvature {q.eigenvalues[0]:.6g})"
        )
    xstar = q.minimizer
    if scheme is None:
        if dt is not None:
            raise ValueError("`dt` is the step of a `scheme`; give scheme= too")
        F, G = _linear(sde, q)
        P = _lyapunov(F, G @ G.T)
    else:
        M, _, B = scheme_map(sde, q, scheme=scheme, dt=dt)
        radius = float(np.max(np.abs(np.linalg.eigvals(M))))
        if not radius < 1.0:
            raise NoStationaryLawError(
                f"`dt` = {dt} is unstable for scheme {scheme!r} on `q` (spectral radius {radius:.6g} >= 1)"
            )
        P = scipy.linalg.solve_discrete_lyapunov(M, B @ B.T)
        P = 0.5 * (P + P.T)
    cth = P[:d, :d].copy()
    loss = float(_expected_loss(q.A, xstar, cth, xstar))
    return SDEStationary(np.array(xstar), cth, loss, P[d:, d:].copy())


# -------------------------------------------------------------------------------------------
# sampling
# -------------------------------------------------------------------------------------------
def _width(scheme: str, d: int) -> int:
    return 2 * d if scheme == "exact" else d


class _Kernel:
    """One step of a scheme on arrays ``theta``, ``v`` shaped ``(S, d)`` with normals ``z``."""

    def __init__(self, sde: HeavyBallSDE, problem, scheme: str, dt: float, d: int):
        self.sde, self.problem, self.scheme, self.dt, self.d = sde, problem, scheme, dt, d
        m, c = sde.m, sde.c
        S = sde.sigma_matrix(d)
        self.scalar = not isinstance(sde.sigma, np.ndarray)
        if scheme == "euler-maruyama":
            self.amp = (math.sqrt(dt) / m) * (sde.sigma if self.scalar else S)
        elif scheme == "baoab":
            self.a = math.exp(-c * dt / m)
            var = dt / m**2 if c == 0 else -math.expm1(-2.0 * c * dt / m) / (2.0 * c * m)
            self.amp = math.sqrt(var) * (sde.sigma if self.scalar else S)
        else:
            q = problem
            F, G = _linear(sde, q)
            GGt = G @ G.T
            Pinf = _lyapunov(F, GGt) if _stable(sde, q) else None
            self.Phi, Q = _transition(F, GGt, Pinf, dt)
            lam, V = np.linalg.eigh(Q)
            self.L = V * np.sqrt(np.clip(lam, 0.0, None))
            self.Xs = np.r_[q.minimizer, np.zeros(d)]

    def _noise(self, z):
        return z * self.amp if self.scalar else z @ self.amp.T

    def step(self, theta, v, z, grad):
        """Advance in place; ``grad`` is ``∇f(theta)`` (or None); returns the new gradient."""
        m, c, dt = self.sde.m, self.sde.c, self.dt
        if self.scheme == "euler-maruyama":
            g = self.problem.grad(theta) if grad is None else grad
            theta += dt * v
            v += (dt / m) * (-g - c * v) + self._noise(z)
            return None
        if self.scheme == "baoab":
            g = self.problem.grad(theta) if grad is None else grad
            v -= (0.5 * dt / m) * g
            theta += (0.5 * dt) * v
            v *= self.a
            v += self._noise(z)
            theta += (0.5 * dt) * v
            g = self.problem.grad(theta)
            v -= (0.5 * dt / m) * g
            return g
        d = self.d
        X = np.concatenate([theta, v], axis=-1) - self.Xs
        X = X @ self.Phi.T + z @ self.L.T + self.Xs
        theta[...] = X[:, :d]
        v[...] = X[:, d:]
        return None


def _check_scheme(scheme, problem) -> str:
    scheme = as_choice("scheme", scheme, SCHEMES)
    if scheme == "exact":
        _check_quadratic(problem, "problem")
        if problem.minimizer is None:
            raise ValueError("`scheme`='exact' needs a quadratic with a minimiser")
    return scheme


def scheme_map(sde, q, *, scheme: str, dt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The affine map of one step of ``scheme`` on a quadratic: ``X' = M X + u + B z``.

    ``X = (θ, v)`` (2d), ``z ~ N(0, I)``; returns ``(M, u, B)``. Obtained by applying the
    sampler's own step to the basis vectors (each scheme is affine on a quadratic), so the
    stationary law of :func:`sde_stationary` with a ``scheme`` is the law the sampler draws from.
    """
    sde, q = _check_sde(sde), _check_quadratic(q)
    scheme = _check_scheme(scheme, q)
    dt = as_real("dt", dt, lower=0.0, lower_inclusive=False)
    d = q.dim
    w = _width(scheme, d)
    k = _Kernel(sde, q, scheme, dt, d)

    def apply(X, z):
        th, v = X[:, :d].copy(), X[:, d:].copy()
        k.step(th, v, z, None)
        return np.concatenate([th, v], axis=-1)

    n = 2 * d
    u = apply(np.zeros((1, n)), np.zeros((1, w)))[0]
    M = (apply(np.eye(n), np.zeros((n, w))) - u).T
    B = (apply(np.zeros((w, n)), np.eye(w)) - u).T
    return M, u, B


def _substeps(t: np.ndarray, dt) -> tuple[np.ndarray, np.ndarray]:
    """Per interval of ``t``: the number of equal steps and their length."""
    gaps = np.diff(np.r_[0.0, t])
    if dt is None:
        n = (gaps > 0).astype(np.int64)
    else:
        n = np.where(gaps > 0, np.ceil(gaps / dt * (1 - 1e-12)), 0).astype(np.int64)
    h = np.where(n > 0, gaps / np.maximum(n, 1), 0.0)
    return n, h


def sample_paths(sde, problem, theta0, t, *, samples: int, seed, scheme: str = "baoab", dt=None,
                 v0=None) -> SamplePaths:  # fmt: skip
    r"""Sample ``samples`` independent paths of the SDE, recorded at the times ``t``.

    Parameters
    ----------
    sde : HeavyBallSDE
    problem : Problem
        Any problem with ``grad`` (a ``Quadratic`` for ``scheme="exact"``).
    theta0 : array_like, shape (d,)
        The common start (``v0`` defaults to 0).
    t : array_like, shape (n_t,)
        Non-negative, non-decreasing recording times (``t = 0`` records the start).
    samples : int
        ``>= 1``.
    seed : int or numpy.random.SeedSequence
        Required: path ``i`` depends only on ``(seed, i)`` (module :mod:`heavyball.noise`).
    scheme : {"baoab", "euler-maruyama", "exact"}
    dt : float, optional
        Largest step: each interval of ``t`` is split into equal steps no longer than ``dt``;
        by default one step per interval.

    Returns
    -------
    SamplePaths
        ``theta`` and ``v`` of shape ``(n_t, samples, d)``. An unstable step gives non-finite
        values, silently.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> sde = hb.HeavyBallSDE(m=1.0, c=1.0, sigma=1.0)
    >>> p = hb.sample_paths(sde, hb.Quadratic([[1.0]]), [0.0], [0.0, 1.0], samples=3, seed=0)
    >>> p.theta.shape
    (2, 3, 1)
    """
    sde = _check_sde(sde)
    samples = as_int("samples", samples, minimum=1)
    scheme = _check_scheme(scheme, problem)
    d = int(getattr(problem, "dim", 0) or 0)
    if d <= 0 or not callable(getattr(problem, "grad", None)):
        raise TypeError(f"`problem` must have `grad` and a positive `dim`, got {describe(problem)}")
    t = _times(t)
    if dt is not None:
        dt = as_real("dt", dt, lower=0.0, lower_inclusive=False)
    theta0 = check_theta("theta0", theta0, d, finite=True).astype(np.float64)
    if theta0.shape != (d,):
        raise ValueError(f"`theta0` must have shape ({d},): all paths start at one point, got {theta0.shape}")
    v0 = np.zeros(d) if v0 is None else check_theta("v0", v0, d, finite=True).astype(np.float64)
    if v0.shape != (d,):
        raise ValueError(f"`v0` must have shape ({d},), got {v0.shape}")
    nbytes = 2 * t.size * samples * d * 8
    if nbytes > MEMORY_BUDGET:
        raise ValueError(
            f"`samples` = {samples} with {t.size} times would record {nbytes / 2**30:.3g} GiB "
            f"(more than {MEMORY_BUDGET / 2**30:g} GiB): fewer times or samples"
        )
    stream = NormalStream(seed, 0, samples, _width(scheme, d))
    n_sub, h_sub = _substeps(t, dt)
    theta_rec = np.empty((t.size, samples, d))
    v_rec = np.empty((t.size, samples, d))
    theta = np.tile(theta0, (samples, 1))
    v = np.tile(v0, (samples, 1))
    z = np.empty((samples, _width(scheme, d)))
    kernels: dict[float, _Kernel] = {}
    grad = None
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(t.size):
            if n_sub[i]:
                h = float(h_sub[i])
                if h not in kernels:
                    kernels[h] = _Kernel(sde, problem, scheme, h, d)
                    grad = None  # the cached gradient is valid for any step length, but keep it simple
                k = kernels[h]
                for _ in range(int(n_sub[i])):
                    grad = k.step(theta, v, stream.draw(out=z), grad)
            theta_rec[i] = theta
            v_rec[i] = v
    return SamplePaths(t, theta_rec, v_rec)
