r"""Objective functions: quadratic valleys, Rosenbrock, and objectives from sympy.

Every problem follows one small protocol (:class:`Problem`): ``value(theta)``,
``grad(theta)``, ``dim``, optionally ``hessian(theta)`` and ``minimizer``. ``theta`` is shaped
``(..., dim)``: leading axes are a batch and broadcast. float32 input gives float32 output.

This module imports nothing of heavyball but its validation helpers, and never sympy at
import time (:meth:`Objective.from_sympy` imports it when called).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ._validation import as_choice, as_float_array, as_int, as_real, check_theta, describe

__all__ = ["Objective", "Problem", "Quadratic", "Rosenbrock", "check_problem"]

#: relative tolerance for the symmetry of ``A`` and the orthogonality of rotations
SYMMETRY_RTOL = 1e-10
#: largest allowed ``d·max|A_ij|``: every eigenvalue (``|h| <= d·max|A_ij|``), ``A + Aᵀ`` and
#: a few sums of them stay representable in float64 (about 1.1e307)
MAX_ENTRY_SCALE = float(np.finfo(np.float64).max) / 16
#: largest allowed ``|a|`` of :class:`Rosenbrock` (its minimiser ``(a, a²)`` must be representable)
MAX_ROSENBROCK_A = 1e150


@runtime_checkable
class Problem(Protocol):
    """The protocol shared by all problems: ``value``, ``grad`` and ``dim``.

    Optional members: ``hessian(theta)`` and ``minimizer`` (an array, or ``None`` when it
    is not known or does not exist).
    """

    dim: int

    def value(self, theta: Any) -> Any:
        """``f(θ)`` for ``theta`` shaped ``(..., dim)``: shape ``(...)``."""
        ...

    def grad(self, theta: Any) -> Any:
        """``∇f(θ)`` for ``theta`` shaped ``(..., dim)``: the same shape."""
        ...


def check_problem(problem: Any) -> int:
    """The one check of the :class:`Problem` protocol at the public boundary; returns ``dim``.

    ``problem`` must be a :class:`Problem`: callable ``value`` and ``grad`` and an integer
    ``dim >= 1``. Every public function that takes a problem (``simulate``, ``exact``,
    ``compare``, ``iterate``, the rates' measurements) calls this.

    Parameters
    ----------
    problem : Problem

    Returns
    -------
    int
        ``problem.dim``.

    Raises
    ------
    TypeError
        If a member is missing or not callable, or ``dim`` is not an integer.
    ValueError
        If ``dim < 1``.

    Examples
    --------
    >>> check_problem(Quadratic([[1.0, 0.0], [0.0, 2.0]]))
    2
    """
    if not isinstance(problem, Problem) or not (callable(problem.value) and callable(problem.grad)):
        raise TypeError(
            "`problem` must follow the Problem protocol (callable `value(theta)` and `grad(theta)`, "
            f"an integer `dim`), got {describe(problem)}"
        )
    return as_int("problem.dim", problem.dim, minimum=1)


def _cast_like(array: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return array if array.dtype == theta.dtype else array.astype(theta.dtype)


class Quadratic:
    r"""The quadratic :math:`f(\theta) = \tfrac12\theta^\top A\theta - b^\top\theta`.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric real matrix: the Hessian. Symmetry is checked to a tolerance relative to
        its norm (``SYMMETRY_RTOL``) and ``A`` is then stored exactly symmetrised.
    b : array_like, shape (d,), optional
        Linear term; zeros when omitted.

    Attributes
    ----------
    A, b : ndarray
        Read-only float64 copies.
    eigenvalues : ndarray
        Eigenvalues of ``A`` in ascending order (the curvatures ``h``), from ``eigh``.
    eigenvectors : ndarray
        Orthonormal eigenvectors as columns: ``A = V diag(h) Vᵀ``.
    h_min, h_max, kappa : float
        Extreme curvatures and ``κ = h_max/h_min`` (``inf`` when ``h_min <= 0``).
    minimizer : ndarray or None
        The minimiser ``A⁻¹b`` when ``A`` is positive definite; the minimum-norm minimiser
        ``A⁺b`` when ``A`` is positive semidefinite and singular with ``b`` in its range;
        ``None`` when ``f`` has no minimiser (a negative curvature, or ``b`` outside the
        range of a singular ``A``: ``f`` is then unbounded below), and also when the minimiser
        exists but overflows float64 (e.g. ``A = 1e-300``, ``b = 1e300``).
    dim : int

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic.valley(kappa=100)
    >>> q.eigenvalues
    array([0.01, 1.  ])
    >>> q.grad([[1.0, 1.0], [2.0, 0.0]])
    array([[0.01, 1.  ],
           [0.02, 0.  ]])
    """

    def __init__(self, A: Any, b: Any = None) -> None:
        A = as_float_array("A", A, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise ValueError(f"`A` must be a non-empty square 2-D array, got shape {A.shape}")
        scale = float(np.max(np.abs(A)))
        d = A.shape[0]
        if scale > MAX_ENTRY_SCALE / d:
            raise ValueError(
                f"`A` is too large: its entries must satisfy d·max|A_ij| <= {MAX_ENTRY_SCALE:.3g} so that its "
                f"eigenvalues are representable in float64, got max|A_ij| = {scale:.3g} with d = {d}"
            )
        unit = A / scale if scale > 0 else A  # compare in units of max|A|: no overflow, no underflow
        asym = float(np.max(np.abs(unit - unit.T)))
        if asym > SYMMETRY_RTOL:
            raise ValueError(
                f"`A` must be symmetric (|A - Aᵀ| <= {SYMMETRY_RTOL:g}·max|A|), "
                f"got max|A - Aᵀ| = {asym * scale:.3g} with max|A| = {scale:.3g}"
            )
        A = 0.5 * A + 0.5 * A.T  # halves first: no overflow
        A.flags.writeable = False
        if b is None:
            b = np.zeros(d)
        else:
            b = as_float_array("b", b, dtype=np.float64, copy=True)
            if b.shape != (d,):
                raise ValueError(f"`b` must have shape ({d},) to match `A` {A.shape}, got shape {b.shape}")
        b.flags.writeable = False
        self._A = A
        self._b = b

    # -- constructors -----------------------------------------------------------------
    @classmethod
    def valley(cls, kappa: Any = 100.0, h_max: Any = 1.0, angle: Any = 0.0) -> Quadratic:
        r"""The 2-D elliptic valley with curvatures ``h_min = h_max/kappa`` and ``h_max``.

        The valley's floor (the gentle ``h_min`` eigendirection) runs at ``angle`` radians
        from the first axis, ``u = (cos a, sin a)``; the steep ``h_max`` direction is across
        it, ``w = (−sin a, cos a)``: :math:`A = h_{min} uu^\top + h_{max} ww^\top`, ``b = 0``.
        """
        kappa = as_real("kappa", kappa, lower=1.0)
        h_max = as_real("h_max", h_max, lower=0.0, lower_inclusive=False, upper=MAX_ENTRY_SCALE / 2)
        angle = as_real("angle", angle)
        h_min = h_max / kappa
        u = np.array([np.cos(angle), np.sin(angle)])
        w = np.array([-np.sin(angle), np.cos(angle)])
        A = h_min * np.outer(u, u) + h_max * np.outer(w, w)
        return cls(A)

    @classmethod
    def from_eigenvalues(cls, eigs: Any, rotation: Any = None, seed: Any = None, b: Any = None) -> Quadratic:
        r"""The quadratic with Hessian ``A = Q diag(eigs) Qᵀ``.

        Parameters
        ----------
        eigs : array_like, shape (d,)
            The curvatures (any order, any sign).
        rotation : None, "random" or array_like (d, d)
            ``None``: ``Q = I`` (axis-aligned). ``"random"``: a Haar-distributed orthogonal
            matrix (QR of a Gaussian matrix with the signs of ``R``'s diagonal absorbed,
            Mezzadri 2007) from ``numpy.random.default_rng(seed)``. An array: used as ``Q``,
            checked orthogonal to ``SYMMETRY_RTOL·d``.
        seed : int or None
            Seed for ``rotation="random"``.
        b : array_like, optional
            Linear term.
        """
        eigs = as_float_array("eigs", eigs, dtype=np.float64)
        if eigs.ndim != 1 or eigs.size == 0:
            raise ValueError(f"`eigs` must be a non-empty 1-D array, got shape {eigs.shape}")
        d = eigs.size
        top = float(np.max(np.abs(eigs)))
        if top > MAX_ENTRY_SCALE / d:
            raise ValueError(
                f"`eigs` are too large: max|eigs| must be <= {MAX_ENTRY_SCALE / d:.3g} for d = {d} "
                f"(representable in float64), got {top:.3g}"
            )
        if rotation is None:
            Q = np.eye(d)
        elif isinstance(rotation, str):
            as_choice("rotation", rotation, ("random",))
            Q = random_orthogonal(d, seed=seed)
        else:
            Q = as_float_array("rotation", rotation, dtype=np.float64)
            if Q.shape != (d, d):
                raise ValueError(f"`rotation` must have shape ({d}, {d}) to match `eigs`, got shape {Q.shape}")
            with np.errstate(over="ignore", invalid="ignore"):  # entries ~1e300: QᵀQ overflows, refused below
                err = np.max(np.abs(Q.T @ Q - np.eye(d)))
            if not err <= SYMMETRY_RTOL * d:  # also inf and NaN
                raise ValueError(f"`rotation` must be orthogonal (QᵀQ = I), got max|QᵀQ − I| = {err:.3g}")
        A = (Q * eigs) @ Q.T
        return cls(0.5 * A + 0.5 * A.T, b)

    def with_weight_decay(self, lam: Any) -> Quadratic:
        r"""The quadratic with Hessian ``A + λI``: coupled L2 regularisation.

        ``f_λ(θ) = f(θ) + (λ/2)‖θ‖²`` so ``∇f_λ = ∇f + λθ`` (the lecture's regularisation
        slide; ``torch.optim.SGD(weight_decay=λ)`` adds exactly ``λθ`` to the gradient).
        Every eigenvalue shifts by ``λ``; the eigenvectors do not change.
        """
        lam = as_real("lam", lam, lower=0.0)
        top = float(np.max(np.abs(self._A))) + lam
        if top > MAX_ENTRY_SCALE / self.dim:
            raise ValueError(
                f"`lam` is too large: A + λI must have d·max|entry| <= {MAX_ENTRY_SCALE:.3g}, got λ = {lam:.3g} "
                f"with max|A_ij| = {float(np.max(np.abs(self._A))):.3g} and d = {self.dim}"
            )
        return Quadratic(self._A + lam * np.eye(self.dim), self._b)

    # -- data -------------------------------------------------------------------------
    @property
    def A(self) -> np.ndarray:
        """The Hessian ``A``, shape ``(d, d)``: a read-only float64 array, exactly symmetric."""
        return self._A

    @property
    def b(self) -> np.ndarray:
        """The linear term ``b``, shape ``(d,)``: a read-only float64 array."""
        return self._b

    @property
    def dim(self) -> int:
        """The dimension ``d``."""
        return self._A.shape[0]

    @functools.cached_property
    def _eigh(self) -> Any:
        h, V = np.linalg.eigh(self._A)
        h.flags.writeable = False
        V.flags.writeable = False
        return h, V

    @property
    def eigenvalues(self) -> np.ndarray:
        """The curvatures ``h``: eigenvalues of ``A`` in ascending order, shape ``(d,)``."""
        return self._eigh[0]

    @property
    def eigenvectors(self) -> np.ndarray:
        """Orthonormal eigenvectors of ``A`` as columns, shape ``(d, d)``: ``A = V diag(h) Vᵀ``."""
        return self._eigh[1]

    @property
    def h_min(self) -> float:
        """The smallest curvature ``h_min``."""
        return float(self.eigenvalues[0])

    @property
    def h_max(self) -> float:
        """The largest curvature ``h_max``."""
        return float(self.eigenvalues[-1])

    @property
    def kappa(self) -> float:
        """The condition number ``κ = h_max/h_min`` (``inf`` when ``h_min <= 0``)."""
        return self.h_max / self.h_min if self.h_min > 0 else float("inf")

    @property
    def zero_tol(self) -> float:
        """Eigenvalues with ``|h| <= zero_tol`` are treated as zero: ``d·ε·max|h|``."""
        return self.dim * np.finfo(float).eps * max(float(np.max(np.abs(self.eigenvalues))), np.finfo(float).tiny)

    @functools.cached_property
    def minimizer(self) -> Any:
        """The minimiser (see the class notes), shape ``(d,)``, or ``None`` when there is none."""
        h, V = self._eigh
        if h[0] < -self.zero_tol:
            return None  # a saddle or maximum: unbounded below
        bt = V.T @ self._b
        zero = np.abs(h) <= self.zero_tol
        if np.any(zero):
            scale = max(float(np.linalg.norm(self._b)), np.finfo(float).tiny)
            if np.linalg.norm(bt[zero]) > 1e-10 * scale:
                return None  # b outside the range of A: f is unbounded below
        with np.errstate(over="ignore", invalid="ignore"):
            xt = np.where(zero, 0.0, bt / np.where(zero, 1.0, h))
            x = V @ xt
        if not np.all(np.isfinite(x)):
            return None  # the minimiser exists but is not representable in float64
        x.flags.writeable = False
        return x

    @property
    def minimum(self) -> Any:
        """``f(minimizer)``, or ``None`` when there is no minimiser."""
        x = self.minimizer
        return None if x is None else float(self.value(x))

    # -- evaluation -------------------------------------------------------------------
    def _A_b(self, dtype: Any) -> Any:
        if dtype == np.float64:
            return self._A, self._b
        with np.errstate(over="ignore"):  # entries beyond float32's range become ±inf
            return self._A.astype(dtype), self._b.astype(dtype)

    def value(self, theta: Any) -> Any:
        """``f(θ) = ½θᵀAθ − bᵀθ`` over ``theta`` shaped ``(..., d)``; returns shape ``(...)``.

        Non-finite ``theta``, or a value beyond float64's range, gives ``inf``/``NaN``
        without a warning (optimisers evaluate diverging iterates)."""
        theta = check_theta("theta", theta, self.dim)
        A, b = self._A_b(theta.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.sum((0.5 * _rowwise_matvec(theta, A) - b) * theta, axis=-1)

    def grad(self, theta: Any) -> Any:
        """``∇f(θ) = Aθ − b`` over ``theta`` shaped ``(..., d)``; returns shape ``(..., d)``.

        Non-finite or overflowing results are returned silently, as in :meth:`value`."""
        theta = check_theta("theta", theta, self.dim)
        A, b = self._A_b(theta.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            g = _rowwise_matvec(theta, A)  # A is symmetric: θA = (Aθ)ᵀ row-wise
            g -= b
            return g

    def hessian(self, theta: Any = None) -> Any:
        """The constant Hessian ``A`` (``theta`` is accepted for the protocol and ignored)."""
        return self._A

    def __repr__(self) -> str:
        if self.dim <= 3:
            return f"Quadratic(A={self._A.tolist()}, b={self._b.tolist()})"
        return f"Quadratic(dim={self.dim}, h_min={self.h_min:.4g}, h_max={self.h_max:.4g})"

    def __eq__(self, other: Any) -> Any:
        if not isinstance(other, Quadratic):
            return NotImplemented
        return np.array_equal(self._A, other._A) and np.array_equal(self._b, other._b)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays: not hashable


#: up to this dimension, products with ``A`` are evaluated as ``d`` vectorised multiply-adds
SMALL_DIM = 8


def _rowwise_matvec(theta: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``θA`` row by row (``= (Aθ)ᵀ``, ``A`` symmetric) for ``theta`` shaped ``(..., d)``.

    For ``d <= SMALL_DIM`` the product is ``d`` elementwise multiply-adds over the batch, so
    each row's result is rounded the same way whatever the batch size (a batched run equals
    the same configurations run one by one, bit for bit) and it is faster than BLAS on tall,
    thin batches. Larger ``d`` uses the BLAS product, whose blocking may round a row
    differently with the number of rows (differences of an ulp).
    """
    d = A.shape[0]
    if d > SMALL_DIM:
        return theta @ A
    out = theta[..., 0, None] * A[0]
    for j in range(1, d):  # a loop over coordinates (≤ SMALL_DIM), never over configurations
        out += theta[..., j, None] * A[j]
    return out


def random_orthogonal(d: int, seed: Any = None) -> np.ndarray:
    """A Haar-distributed random orthogonal ``d×d`` matrix from ``default_rng(seed)``.

    QR of a standard Gaussian matrix, with the columns multiplied by the signs of ``R``'s
    diagonal so that the distribution is exactly Haar (Mezzadri, Notices AMS 2007).
    """
    d = as_int("d", d, minimum=1)
    if not (seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence))):
        seed = as_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((d, d))
    Q, R = np.linalg.qr(Z)
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1.0
    return Q * signs


class Rosenbrock:
    r"""Rosenbrock's banana :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    Minimiser ``(a, a²)`` with ``f = 0``; a curved, narrow valley (the lecture's "¿Cómo
    encontrar el mínimo de esta función?"). Rosenbrock, The Computer Journal 3 (1960).

    Parameters
    ----------
    a : float, ``|a| <= 1e150`` (so that the minimiser ``(a, a²)`` is representable)
    b : float, > 0

    Evaluations far from the minimiser may overflow to ``inf``; they do so silently.
    """

    dim = 2

    def __init__(self, a: Any = 1.0, b: Any = 100.0) -> None:
        self.a = as_real("a", a, lower=-MAX_ROSENBROCK_A, upper=MAX_ROSENBROCK_A)
        self.b = as_real("b", b, lower=0.0, lower_inclusive=False)

    @property
    def minimizer(self) -> np.ndarray:
        """The minimiser ``(a, a²)``."""
        x = np.array([self.a, self.a**2])
        x.flags.writeable = False
        return x

    @property
    def minimum(self) -> float:
        """The minimum value, 0."""
        return 0.0

    def value(self, theta: Any) -> Any:
        """``f(x, y) = (a − x)² + b(y − x²)²`` over ``theta`` shaped ``(..., 2)``; shape ``(...)``."""
        theta = check_theta("theta", theta, 2)
        x, y = theta[..., 0], theta[..., 1]
        with np.errstate(over="ignore", invalid="ignore"):
            return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def grad(self, theta: Any) -> Any:
        """``∇f = (−2(a − x) − 4bx(y − x²), 2b(y − x²))``, shape of ``theta``."""
        theta = check_theta("theta", theta, 2)
        x, y = theta[..., 0], theta[..., 1]
        with np.errstate(over="ignore", invalid="ignore"):
            r = y - x * x
            gx = -2 * (self.a - x) - 4 * self.b * x * r
            gy = 2 * self.b * r
        return np.stack([gx, gy], axis=-1)

    def hessian(self, theta: Any) -> Any:
        """``∇²f`` at ``theta`` shaped ``(..., 2)``: shape ``(..., 2, 2)``."""
        theta = check_theta("theta", theta, 2)
        x, y = theta[..., 0], theta[..., 1]
        with np.errstate(over="ignore", invalid="ignore"):
            hxx = 2 - 4 * self.b * (y - x * x) + 8 * self.b * x * x
            hxy = -4 * self.b * x
            hyy = np.full_like(x, 2 * self.b)
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


#: functions a formula given as text may call (sympy names)
ALLOWED_FUNCTIONS = (
    "sin", "cos", "tan", "exp", "log", "sqrt", "sinh", "cosh", "tanh",
    "atan", "asin", "acos", "Abs", "abs", "cbrt",
)  # fmt: skip
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd,
)  # fmt: skip


#: largest exponent allowed in a power of constants (``9**9**9`` would take sympy hours)
MAX_CONSTANT_EXPONENT = 1000.0
#: deepest nesting of function calls and powers in a text formula (each level multiplies the
#: size of the derivatives sympy builds: 40 nested powers take seconds, 100 nested sines a minute)
MAX_FORMULA_NESTING = 16
#: deepest syntax tree of a text formula (a chain of 500 sums is fine; Python's parser itself
#: fails on a few thousand levels)
MAX_FORMULA_DEPTH = 500


def _depths(tree: Any) -> Any:
    """``(depth, nesting)`` of a syntax tree, iteratively: its height, and the largest number
    of calls and powers on one root-to-leaf path."""
    depth = nesting = 0
    stack = [(tree, 1, 0)]
    while stack:
        node, level, nest = stack.pop()
        nest += isinstance(node, ast.Call) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow))
        depth, nesting = max(depth, level), max(nesting, nest)
        stack.extend((child, level + 1, nest) for child in ast.iter_child_nodes(node))
    return depth, nesting


def _constant_value(node: Any) -> float | None:
    """The float value of a subtree made only of numbers and arithmetic, or ``None`` when it
    contains a name or a call. Overflow gives ``inf``; nothing is computed exactly, so this
    is cheap whatever the subtree (``9**9**9`` evaluates to ``inf`` in microseconds)."""
    import math

    if isinstance(node, ast.Constant):
        try:
            return float(node.value)  # type: ignore[arg-type]  # a number: validated by the caller
        except OverflowError:  # an integer literal beyond float64
            return math.inf
    if isinstance(node, ast.UnaryOp):
        x = _constant_value(node.operand)
        return None if x is None else (-x if isinstance(node.op, ast.USub) else x)
    if isinstance(node, ast.BinOp):
        a, b = _constant_value(node.left), _constant_value(node.right)
        if a is None or b is None:
            return None
        with np.errstate(all="ignore"):
            fa, fb = np.float64(a), np.float64(b)
            if isinstance(node.op, ast.Add):
                return float(fa + fb)
            if isinstance(node.op, ast.Sub):
                return float(fa - fb)
            if isinstance(node.op, ast.Mult):
                return float(fa * fb)
            if isinstance(node.op, ast.Div):
                return float(fa / fb) if fb != 0 else math.nan
            return float(np.power(np.abs(fa), fb))  # Pow: magnitude only
    return None


def _parse_formula(text: str, names: dict) -> Any:
    """Parse a formula safely: only arithmetic, numbers, the declared symbols and
    :data:`ALLOWED_FUNCTIONS`. The text is checked with :mod:`ast` *before* sympy sees it,
    so nothing in it is ever executed, and powers of constants with exponents beyond
    :data:`MAX_CONSTANT_EXPONENT` (which sympy would evaluate exactly, without end) are refused."""
    import math

    import sympy
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    if len(text) > 10_000:
        raise ValueError(f"`expr` is too long ({len(text)} characters; at most 10000)")
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"`expr` is not a valid formula: {describe(text)} ({exc.msg})") from None
    except (RecursionError, MemoryError):  # e.g. 5000 nested unary minus signs
        raise ValueError(f"`expr` is nested too deeply to parse: {describe(text)}") from None
    depth, nesting = _depths(tree)
    if depth > MAX_FORMULA_DEPTH or nesting > MAX_FORMULA_NESTING:
        raise ValueError(
            f"`expr` is nested too deeply: syntax-tree depth {depth} (at most {MAX_FORMULA_DEPTH}) and "
            f"{nesting} nested calls or powers (at most {MAX_FORMULA_NESTING}); pass a sympy expression instead"
        )
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"`expr` may only use numbers, + - * / ** ^, the symbols {sorted(names)} and the "
                f"functions {list(ALLOWED_FUNCTIONS)}; got {type(node).__name__} in {describe(text)}"
            )
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise ValueError(f"`expr` may only contain numeric constants, got {describe(node.value)}")
        if isinstance(node, ast.Constant) and isinstance(node.value, float) and not math.isfinite(node.value):
            raise ValueError(f"`expr` may only contain finite numbers (float64), got {describe(ast.unparse(node))}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exponent = _constant_value(node.left), _constant_value(node.right)
            if base is not None and not (exponent is not None and abs(exponent) <= MAX_CONSTANT_EXPONENT):
                raise ValueError(
                    f"`expr` raises a constant to a power beyond ±{MAX_CONSTANT_EXPONENT:g} (exact arithmetic "
                    f"would not finish): {describe(ast.unparse(node))}"
                )
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS or node.keywords:
                raise ValueError(f"`expr` may only call {list(ALLOWED_FUNCTIONS)}, got {describe(ast.unparse(node))}")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in ALLOWED_FUNCTIONS:
            raise ValueError(f"`expr` uses an undeclared name {node.id!r}; declared symbols: {sorted(names)}")
    local = dict(names)
    local.update({fn: getattr(sympy, "Abs" if fn == "abs" else fn) for fn in ALLOWED_FUNCTIONS})
    global_dict = {"Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational, "Symbol": sympy.Symbol}
    try:
        return parse_expr(source, local_dict=local, global_dict=global_dict, transformations=standard_transformations)
    except (TypeError, ValueError, ArithmeticError, sympy.SympifyError) as exc:  # e.g. sin(x, y)
        raise ValueError(f"`expr` is not a valid formula: {describe(text)} ({_one_line(exc)})") from None


def _one_line(exc: Any) -> str:
    return " ".join(str(exc).split())[:200]


class Objective:
    r"""A general objective from numpy callables, or from a sympy expression.

    Parameters
    ----------
    value, grad : callable
        ``value(theta) -> (...)`` and ``grad(theta) -> (..., dim)`` for ``theta`` shaped
        ``(..., dim)``.
    dim : int
    hessian : callable, optional
        ``hessian(theta) -> (..., dim, dim)``.
    minimizer : array_like, optional
    name : str, optional
    """

    def __init__(self, value: Callable, grad: Callable, dim: Any, *, hessian: Callable | None = None,
                 minimizer: Any=None, name: str = "objective") -> None:  # fmt: skip
        if not callable(value):
            raise TypeError(f"`value` must be callable, got {describe(value)}")
        if not callable(grad):
            raise TypeError(f"`grad` must be callable, got {describe(grad)}")
        if hessian is not None and not callable(hessian):
            raise TypeError(f"`hessian` must be callable or None, got {describe(hessian)}")
        self.dim = as_int("dim", dim, minimum=1)
        self._value, self._grad, self._hessian = value, grad, hessian
        if minimizer is not None:
            minimizer = as_float_array("minimizer", minimizer, dtype=np.float64, copy=True, readonly=True)
            if minimizer.shape != (self.dim,):
                raise ValueError(f"`minimizer` must have shape ({self.dim},), got shape {minimizer.shape}")
        self.minimizer = minimizer
        self.name = name
        self.expr: Any = None
        self.symbols: tuple[Any, ...] = ()

    @classmethod
    def from_sympy(cls, expr: Any, symbols: Any, *, minimizer: Any = None, name: Any = None) -> Objective:
        r"""An objective from a sympy expression: value, gradient and Hessian by ``lambdify``.

        Parameters
        ----------
        expr : sympy.Expr or str
            The objective. A string is parsed safely: it may use only numbers, arithmetic
            (``+ - * / ** ^``), the given ``symbols`` and the functions in
            ``ALLOWED_FUNCTIONS``; anything else (attributes, subscripts, other names, e.g.
            ``__import__('os')``) is rejected with a ``ValueError`` before it is evaluated, as
            are formulas that would not finish or not evaluate to real numbers: powers of
            constants with exponents beyond ``MAX_CONSTANT_EXPONENT`` (``9**9**9``), nesting
            beyond ``MAX_FORMULA_NESTING`` calls/powers or ``MAX_FORMULA_DEPTH`` levels, non-finite
            constants (``1e999``), and constants that are infinite, NaN or complex
            (``x/0``, ``log(0)``, ``sqrt(-1)``).
        symbols : sequence of sympy.Symbol or str
            The coordinates, in order: ``theta[..., i]`` is ``symbols[i]``.

        Examples
        --------
        >>> import heavyball as hb
        >>> f = hb.Objective.from_sympy("(1 - x)**2 + 100*(y - x**2)**2", ["x", "y"])
        >>> f.grad([1.0, 1.0])
        array([0., 0.])
        """
        import sympy

        if isinstance(symbols, (str, sympy.Symbol)):
            symbols = [symbols]
        try:
            symbols = list(symbols)
        except TypeError:
            raise TypeError(
                f"`symbols` must be a sequence of sympy symbols or names, got {describe(symbols)}"
            ) from None
        if not symbols:
            raise ValueError("`symbols` must name at least one coordinate, got an empty sequence")
        syms = []
        for s in symbols:
            if isinstance(s, str):
                if not s.isidentifier() or s in ALLOWED_FUNCTIONS:
                    raise ValueError(f"`symbols` must be identifiers that are not function names, got {s!r}")
                s = sympy.Symbol(s, real=True)
            elif not isinstance(s, sympy.Symbol):
                raise TypeError(f"`symbols` must be sympy symbols or names, got {describe(s)}")
            syms.append(s)
        if len(set(syms)) != len(syms):
            raise ValueError(f"`symbols` must be distinct, got {syms}")
        names = {s.name: s for s in syms}
        if isinstance(expr, str):
            expr = _parse_formula(expr, names)
            if not isinstance(expr, sympy.Expr):  # e.g. a bare function name: "sin"
                raise ValueError(f"`expr` must be a formula (an expression of the symbols), got {describe(str(expr))}")
        elif not isinstance(expr, sympy.Expr):
            raise TypeError(f"`expr` must be a sympy expression or a string, got {describe(expr)}")
        extra = expr.free_symbols - set(syms)
        if extra:
            raise ValueError(f"`expr` has symbols {sorted(map(str, extra))} not among `symbols` {syms}")
        if expr.has(sympy.zoo, sympy.oo, sympy.nan, sympy.I):
            raise ValueError(
                f"`expr` must be a finite real formula; it simplifies to something with an infinity, NaN or "
                f"the imaginary unit (a division by zero, log(0), sqrt of a negative constant?): {describe(str(expr))}"
            )
        grad_exprs = [sympy.diff(expr, s) for s in syms]
        hess_exprs = [[sympy.diff(g, s) for s in syms] for g in grad_exprs]
        f_value = sympy.lambdify(syms, expr, modules="numpy")
        f_grad = [sympy.lambdify(syms, g, modules="numpy") for g in grad_exprs]
        f_hess = [[sympy.lambdify(syms, h, modules="numpy") for h in row] for row in hess_exprs]
        d = len(syms)

        def _columns(theta: Any) -> Any:
            return [theta[..., i] for i in range(d)]

        def _full(val: Any, theta: Any) -> Any:
            return np.broadcast_to(np.asarray(val, dtype=theta.dtype), theta.shape[:-1])

        # evaluations outside the formula's domain (log of a negative number, overflow) give
        # NaN/inf silently, like the other problems
        quiet = functools.partial(np.errstate, all="ignore")

        def value(theta: Any) -> Any:
            theta = check_theta("theta", theta, d)
            with quiet():
                return _full(f_value(*_columns(theta)), theta).copy()

        def grad(theta: Any) -> Any:
            theta = check_theta("theta", theta, d)
            cols = _columns(theta)
            with quiet():
                return np.stack([_full(g(*cols), theta) for g in f_grad], axis=-1)

        def hessian(theta: Any) -> Any:
            theta = check_theta("theta", theta, d)
            cols = _columns(theta)
            with quiet():
                return np.stack([np.stack([_full(h(*cols), theta) for h in row], -1) for row in f_hess], -2)

        obj = cls(value, grad, d, hessian=hessian, minimizer=minimizer, name=name or str(expr))
        obj.expr = expr
        obj.symbols = tuple(syms)
        return obj

    def value(self, theta: Any) -> Any:
        """``f(θ)`` over ``theta`` shaped ``(..., dim)``; shape ``(...)``."""
        return self._value(check_theta("theta", theta, self.dim))

    def grad(self, theta: Any) -> Any:
        """``∇f(θ)`` over ``theta`` shaped ``(..., dim)``; the same shape."""
        return self._grad(check_theta("theta", theta, self.dim))

    @property
    def has_hessian(self) -> bool:
        """Whether a Hessian was given (or derived by sympy)."""
        return self._hessian is not None

    def hessian(self, theta: Any) -> Any:
        """``∇²f(θ)`` over ``theta`` shaped ``(..., dim)``: shape ``(..., dim, dim)``.

        Raises ``TypeError`` when the objective was built without a Hessian.
        """
        if self._hessian is None:
            raise TypeError(f"the objective {self.name!r} was built without a `hessian`")
        return self._hessian(check_theta("theta", theta, self.dim))

    def __repr__(self) -> str:
        return f"Objective({self.name!r}, dim={self.dim})"
