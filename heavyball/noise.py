r"""Gradient noise: the stochastic gradient :math:`g = \nabla f(\theta) + \xi`, :math:`\xi \sim N(0, \Sigma)`.

:class:`GradientNoise` is additive Gaussian noise on every gradient an optimiser sees,
independent between steps and of the iterate. Three ways to give :math:`\Sigma`:

* ``GradientNoise.isotropic(sigma)``: :math:`\Sigma = \sigma^2 I` in any dimension;
* ``GradientNoise(cov=Σ)``: a symmetric positive semidefinite ``(d, d)`` matrix;
* ``GradientNoise.hessian(q, scale)``: :math:`\Sigma = \text{scale}\cdot A` for the quadratic
  ``q`` with Hessian ``A`` — the noisy quadratic model of Zhang et al. (2019), where
  ``scale = 1/batch size`` (mini-batch gradient noise near a minimum has covariance close to
  the Hessian, and averaging ``B`` samples divides it by ``B``).

Draws. Noisy runs are always seeded. Samples are grouped in fixed blocks of
:data:`STREAM_BLOCK`, and block ``j`` has its own generator seeded by child ``j`` of
``numpy.random.SeedSequence(seed).spawn(...)`` (statistically independent streams); each step
draws the whole block's variates, so the noise of sample ``i`` depends only on ``(seed, i)`` —
not on how many samples run together, on how they are split into chunks or on the order in
which chunks are processed — and the same seed gives the same bytes whatever the threads or
chunking (:class:`NormalStream`).

References
----------
G. Zhang, L. Li, Z. Nado, J. Martens, S. Sachdeva, G. E. Dahl, C. J. Shallue, R. Grosse
(2019), "Which algorithmic choices matter at which batch sizes? Insights from a noisy
quadratic model", NeurIPS. S. Mandt, M. D. Hoffman, D. M. Blei (2017), "Stochastic gradient
descent as approximate Bayesian inference", JMLR.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from ._validation import as_float_array, as_real, describe

__all__ = [
    "COV_RTOL",
    "STREAM_BLOCK",
    "GradientNoise",
    "GradientSampler",
    "NoStationaryLawError",
    "NormalStream",
    "check_seed",
]

#: relative tolerance of the symmetry and positive-semidefiniteness checks of a covariance:
#: ``max|Σ − Σᵀ| <= COV_RTOL·max|Σ|`` and ``λ_min(Σ) >= −COV_RTOL·max|Σ|``
COV_RTOL = 1e-12


class NoStationaryLawError(ValueError):
    """A configuration has no stationary law: some mode's spectral radius is ``>= 1`` (a
    discrete method whose iterates diverge or whose variance grows without bound), or an SDE
    without friction or with a non-positive curvature."""


def check_seed(seed) -> int | np.random.SeedSequence:
    """``seed`` as accepted by :class:`NormalStream`: a non-negative ``int`` or a
    ``numpy.random.SeedSequence``. Anything else — ``None`` (which would make the run
    non-reproducible), a float, a ``Generator`` (whose state the caller could advance between
    calls) — is a ``TypeError``; a negative integer is a ``ValueError``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"`seed` must be a non-negative int or a numpy.random.SeedSequence (noise is always seeded, "
            f"so that a noisy run is reproducible), got {describe(seed)}"
        )
    if seed < 0:
        raise ValueError(f"`seed` must be a non-negative int, got {seed}")
    return int(seed)


#: samples per random stream: sample ``i`` draws from stream ``i // STREAM_BLOCK``
STREAM_BLOCK = 4096


class NormalStream:
    """Standard normal variates for samples ``start <= i < stop`` of a seeded noisy run.

    Samples are grouped in blocks of :data:`STREAM_BLOCK`; block ``j`` draws from
    ``Generator(SFC64(SeedSequence(seed).spawn(j + 1)[j]))`` — numpy's fastest bit generator,
    on statistically independent spawned seeds — and every call of :meth:`draw` takes
    ``STREAM_BLOCK × width`` variates from every block it touches, in step order, keeping the
    rows of the requested samples. So the variates of sample ``i`` at step ``k`` are a function
    of ``(seed, i, k, width)`` alone: the same whatever the number of samples, the chunk a sample
    is run in, the number of threads or the order of the chunks.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
    start, stop : int
        The samples this stream serves.
    width : int
        Variates per sample and step.
    """

    def __init__(self, seed, start: int, stop: int, width: int):
        seq = check_seed(seed)
        if not isinstance(seq, np.random.SeedSequence):
            seq = np.random.SeedSequence(seq)
        first, last = start // STREAM_BLOCK, (max(stop, start + 1) - 1) // STREAM_BLOCK
        # child j of `seq.spawn(...)` from a fresh copy (spawning never advances the caller's
        # SeedSequence), made directly: spawn_key + (j,) is how numpy names its j-th child
        children = [
            np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, j), pool_size=seq.pool_size)
            for j in range(first, last + 1)
        ]
        self._gens = [np.random.Generator(np.random.SFC64(c)) for c in children]
        self._rows = [
            slice(max(start - j * STREAM_BLOCK, 0), min(stop - j * STREAM_BLOCK, STREAM_BLOCK))
            for j in range(first, last + 1)
        ]
        self._buf = np.empty((STREAM_BLOCK, width))
        self._steps_buf: np.ndarray | None = None
        self.size = max(stop - start, 0)
        self.width = width

    def draw(self, out: np.ndarray | None = None) -> np.ndarray:
        """One step's variates, shape ``(stop − start, width)`` (written into ``out`` if given)."""
        if out is None:
            out = np.empty((self.size, self.width))
        pos = 0
        for gen, rows in zip(self._gens, self._rows, strict=True):
            n = rows.stop - rows.start
            if n == STREAM_BLOCK:
                gen.standard_normal(out=out[pos : pos + n])
            else:
                gen.standard_normal(out=self._buf)
                out[pos : pos + n] = self._buf[rows]
            pos += n
        return out

    def draw_steps(self, out: np.ndarray) -> np.ndarray:
        """The variates of ``len(out)`` successive steps, into ``out`` shaped
        ``(steps, stop − start, width)``: ``out[s]`` is what the ``s``-th next call of
        :meth:`draw` would return (a generator's variates are a sequence, so a block's
        ``steps`` draws of ``STREAM_BLOCK × width`` are one draw of ``steps`` times as many;
        one call per block instead of one per step and block)."""
        steps = out.shape[0]
        if len(self._gens) == 1 and self.size == STREAM_BLOCK and out.flags.c_contiguous:
            self._gens[0].standard_normal(out=out)  # one block: straight into `out`
            return out
        pos = 0
        for gen, rows in zip(self._gens, self._rows, strict=True):
            n = rows.stop - rows.start
            if n == STREAM_BLOCK:  # a whole block: straight into `out`, step by step
                for s in range(steps):
                    gen.standard_normal(out=out[s, pos : pos + n])
            else:
                if self._steps_buf is None or self._steps_buf.shape[0] != steps:
                    self._steps_buf = np.empty((steps, STREAM_BLOCK, self.width))
                gen.standard_normal(out=self._steps_buf)
                out[:, pos : pos + n] = self._steps_buf[:, rows]
            pos += n
        return out


def _check_cov(cov) -> np.ndarray:
    cov = as_float_array("cov", cov, dtype=np.float64, copy=True)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
        raise ValueError(f"`cov` must be a non-empty square (d, d) matrix, got shape {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"`cov` must be finite, got {describe(cov)}")
    scale = float(np.max(np.abs(cov)))
    asym = float(np.max(np.abs(cov - cov.T)))
    if asym > COV_RTOL * scale:
        raise ValueError(
            f"`cov` must be symmetric (max|Σ − Σᵀ| <= {COV_RTOL:g}·max|Σ|), got max|Σ − Σᵀ| = {asym:.3g} "
            f"with max|Σ| = {scale:.3g}"
        )
    cov = 0.5 * (cov + cov.T)
    lam = float(np.linalg.eigvalsh(cov)[0]) if cov.size else 0.0
    if lam < -COV_RTOL * scale * cov.shape[0]:
        raise ValueError(f"`cov` must be positive semidefinite (a covariance), got smallest eigenvalue {lam:.6g}")
    cov.flags.writeable = False
    return cov


@dataclasses.dataclass(frozen=True, eq=False)
class GradientNoise:
    r"""Additive Gaussian gradient noise :math:`\xi \sim N(0, \Sigma)`, fresh at every step.

    Parameters
    ----------
    cov : array_like, shape (d, d)
        The covariance :math:`\Sigma`: symmetric (to ``COV_RTOL`` relative), positive
        semidefinite, finite. Use :meth:`isotropic` for :math:`\sigma^2 I` in any dimension.

    Attributes
    ----------
    cov : ndarray or None
        The covariance (read-only); ``None`` for isotropic noise, whose dimension is the
        problem's.
    sigma : float or None
        The standard deviation of each coordinate of isotropic noise.
    scale : float or None
        For :meth:`hessian` noise: ``Σ = scale·A``.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> hb.GradientNoise.isotropic(0.5).covariance(2)
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    >>> q = hb.Quadratic.valley(kappa=10)
    >>> hb.GradientNoise.hessian(q, scale=1 / 32).covariance(2)
    array([[0.003125, 0.      ],
           [0.      , 0.03125 ]])

    References
    ----------
    Zhang et al. (2019), the noisy quadratic model (:meth:`hessian`).
    """

    cov: Any = None
    sigma: Any = None
    scale: Any = None

    def __post_init__(self):
        if self.sigma is not None:
            if self.cov is not None:
                raise ValueError("`GradientNoise` takes either `cov` or `sigma` (isotropic), not both")
            object.__setattr__(self, "sigma", as_real("sigma", self.sigma, lower=0.0))
            return
        if self.cov is None:
            raise ValueError(
                "`cov` must be given: GradientNoise(cov=Σ), GradientNoise.isotropic(sigma) or "
                "GradientNoise.hessian(q, scale)"
            )
        object.__setattr__(self, "cov", _check_cov(self.cov))

    @classmethod
    def isotropic(cls, sigma) -> GradientNoise:
        r""":math:`\Sigma = \sigma^2 I`: each gradient coordinate gets independent noise of standard
        deviation ``sigma >= 0``."""
        return cls(sigma=sigma)

    @classmethod
    def hessian(cls, q, scale) -> GradientNoise:
        r""":math:`\Sigma = \text{scale}\cdot A` for the quadratic ``q`` (Hessian ``A``, positive
        semidefinite): the noisy quadratic model of Zhang et al. (2019), ``scale = 1/batch size``."""
        A = getattr(q, "A", None)
        if A is None:
            raise TypeError(f"`q` must be a Quadratic (it needs a Hessian `A`), got {describe(q)}")
        scale = as_real("scale", scale, lower=0.0)
        noise = cls(cov=scale * np.asarray(A, dtype=np.float64))
        object.__setattr__(noise, "scale", scale)
        return noise

    @property
    def isotropic_sigma(self) -> float | None:
        """``sigma`` for isotropic noise, else ``None``."""
        return self.sigma

    def dim_ok(self, d: int) -> bool:
        """Whether this noise can perturb gradients of dimension ``d``."""
        return self.cov is None or self.cov.shape[0] == d

    def check_dim(self, d: int, name: str = "noise") -> None:
        """Raise a ``ValueError`` naming ``name`` unless :meth:`dim_ok`."""
        if not self.dim_ok(d):
            raise ValueError(f"`{name}` has covariance of shape {self.cov.shape}, but the problem has dimension {d}")

    def covariance(self, d: int) -> np.ndarray:
        """The ``(d, d)`` covariance :math:`\\Sigma` (a new array)."""
        self.check_dim(d)
        if self.cov is None:
            return np.eye(d) * float(self.sigma) ** 2
        return np.array(self.cov)

    def factor(self, d: int) -> np.ndarray:
        r"""A ``(d, d)`` matrix ``L`` with :math:`LL^\top = \Sigma` (from the symmetric
        eigendecomposition, so a singular :math:`\Sigma` is fine): ``ξ = L z``, ``z ~ N(0, I)``."""
        self.check_dim(d)
        if self.cov is None:
            return np.eye(d) * float(self.sigma)
        lam, V = np.linalg.eigh(self.cov)
        return V * np.sqrt(np.clip(lam, 0.0, None))

    def draw(self, rng: np.random.Generator, shape: tuple, d: int, dtype=np.float64) -> np.ndarray:
        """Noise of shape ``shape + (d,)`` from ``rng`` (standard normals ``z``, then ``L z``)."""
        z = rng.standard_normal(tuple(shape) + (d,))
        if self.cov is None:
            z *= float(self.sigma)
        else:
            z = z @ self.factor(d).T
        return z.astype(dtype, copy=False)

    def __repr__(self) -> str:
        if self.cov is None:
            return f"GradientNoise.isotropic({self.sigma:g})"
        if self.scale is not None:
            return f"GradientNoise.hessian(scale={self.scale:g}, d={self.cov.shape[0]})"
        return f"GradientNoise(cov={describe(self.cov)})"


class GradientSampler:
    """The noise a noisy run adds to its gradients, step after step.

    Row ``i`` of the run's flat batch is sample ``i`` of a :class:`NormalStream`; each call of
    :meth:`draw` is one step. ``rows`` selects the rows still being stepped; the streams of all
    samples advance at every step, diverged rows included, so the noise of a row never depends
    on which other rows are still running.

    Parameters
    ----------
    noise : GradientNoise
    seed : int or numpy.random.SeedSequence
        Required (``TypeError`` otherwise): a noisy run is always reproducible.
    size : int
        Rows of the flat batch.
    dim : int
        The problem's dimension.
    dtype : numpy dtype
        The run's dtype (noise is drawn in float64 and cast).
    first : int
        The sample of row 0: rows ``0 … size − 1`` draw samples ``first … first + size − 1``
        (a chunk of a larger run draws that run's streams).
    """

    def __init__(self, noise, seed, size: int, dim: int, dtype=np.float64, *, first: int = 0):
        if not isinstance(noise, GradientNoise):
            raise TypeError(f"`noise` must be a GradientNoise or None, got {describe(noise)}")
        noise.check_dim(dim)
        self._stream = NormalStream(seed, first, first + size, dim)
        self._factor = None if noise.cov is None else noise.factor(dim).T
        self._scale = float(noise.sigma) if noise.cov is None else None
        self._z = np.empty((size, dim))
        self.dtype = np.dtype(dtype)

    def draw(self, rows: np.ndarray | None = None) -> np.ndarray:
        """One step's noise for the working rows (all rows when ``rows`` is None)."""
        z = self._stream.draw(out=self._z)
        if rows is not None:
            z = z[rows]
        xi = z * self._scale if self._factor is None else z @ self._factor
        return xi.astype(self.dtype, copy=False)
