"""Independent oracles for results that other tests check only against heavyball itself.

Each oracle here is written from the mathematics or from the reference implementation's
source, never from heavyball's code:

- **Adam/AdamW**: a numpy replica of torch 2.13's ``_single_tensor_adam``
  (``torch/optim/adam.py``), written operation by operation from that source: every flag
  (weight decay coupled and decoupled, ``amsgrad``, ``maximize``) and both branches of
  torch's ``lerp`` (weight ``1 − β₁ < 0.5`` and ``≥ 0.5``). heavyball's step, its batched
  loop and its blocked kernel for quadratics must equal the replica **bit for bit**; the
  replica itself is checked against live torch (a few ulps per step: torch's CPU kernels
  fuse multiply-adds, numpy does not).
- **The fast path** (linear methods on a quadratic, in the eigenbasis) against exact rational
  arithmetic (``fractions.Fraction``): torch's update rule stepped in exact arithmetic in the
  original coordinates, and per-mode 2×2 matrix powers for the closed form; and against
  torch (live when installed, the recorded reference otherwise) on its own.
- **float32 fast path** against a float64 oracle, with a tolerance derived from the measured
  error.
- **The closed-form ODE solution** ``exact`` against mpmath's matrix exponential at 40 digits,
  at the accuracy its docstring promises.
- **The stability hint** of ``compare``: the numbers it prints against ``2(1 + μ)`` computed
  by hand from ``μ = 1 − cΔt/m``.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction

import numpy as np
import pytest

import heavyball as hb
from heavyball import rates

# ---------------------------------------------------------------------------------------
# Adam/AdamW: a replica of torch 2.13's single-tensor step, written from torch's source
# ---------------------------------------------------------------------------------------
BETA1S = (0.3, 0.5, 0.9)  # lerp weight 1 − β₁ = 0.7, 0.5 (both ≥ 0.5: second branch), 0.1
ADAM_FLAGS = list(itertools.product((False, True), (False, True), (0.0, 0.1), (False, True)))


def _flag_id(flags):
    decoupled, amsgrad, weight_decay, maximize = flags
    return f"{'AdamW' if decoupled else 'Adam'}-ams{int(amsgrad)}-wd{weight_decay}-max{int(maximize)}"


def torch_adam_replica(param, grad, state, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled,
                       power=pow):  # fmt: skip
    """One step of ``torch.optim.adam._single_tensor_adam`` (2.13, CPU, not capturable, not
    differentiable), in numpy, on copies. ``state = (step, exp_avg, exp_avg_sq, max_exp_avg_sq)``
    with ``step`` a float, as torch keeps it. Python scalars are combined in float64 and cast
    to the tensor's dtype where torch hands them to a tensor operation.

    ``power(β, t)`` is torch's ``beta1**step``: Python's float power (the C library's ``pow``)
    by default. heavyball evaluates it with ``numpy.power`` (one routine for scalar and array
    hyperparameters, so that a batched run equals its configurations run one by one); where
    numpy uses a vectorised ``pow`` the two may differ in the last bit
    (``test_numpy_power_and_python_power_differ_by_at_most_one_ulp``), so the bitwise tests
    pass ``numpy.power`` and the comparison with the default measures the difference."""
    T = param.dtype.type
    step, exp_avg, exp_avg_sq, max_exp_avg_sq = state
    param = param.copy()
    grad = -grad if maximize else grad  # grad = grads[i] if not maximize else -grads[i]
    step = step + 1.0  # step_t += 1
    if weight_decay != 0:
        if decoupled:
            param = param * T(1 - lr * weight_decay)  # param.mul_(1 - lr * weight_decay)
        else:
            grad = grad + param * T(weight_decay)  # grad = grad.add(param, alpha=weight_decay)
    # exp_avg.lerp_(grad, 1 - beta1): ATen's lerp, `self + w*(end − self)` if |w| < 0.5,
    # else `end − (end − self)*(1 − w)`
    w = T(1 - beta1)
    if abs(w) < 0.5:
        exp_avg = exp_avg + w * (grad - exp_avg)
    else:
        exp_avg = grad - (grad - exp_avg) * (T(1) - w)
    # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2): self + (value*t1)*t2
    exp_avg_sq = exp_avg_sq * T(beta2)
    exp_avg_sq = exp_avg_sq + (grad * T(1 - beta2)) * grad
    bias_correction1 = 1 - float(power(beta1, step))  # Python floats (step = step_t.item())
    bias_correction2 = 1 - float(power(beta2, step))
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if amsgrad:
        max_exp_avg_sq = np.maximum(max_exp_avg_sq, exp_avg_sq)  # torch.maximum(..., out=...)
        denom = np.sqrt(max_exp_avg_sq) / T(bias_correction2_sqrt) + T(eps)
    else:
        denom = np.sqrt(exp_avg_sq) / T(bias_correction2_sqrt) + T(eps)
    # param.addcdiv_(exp_avg, denom, value=-step_size): self + (value*t1)/t2
    param = param + (exp_avg * T(-step_size)) / denom
    return param, (step, exp_avg, exp_avg_sq, max_exp_avg_sq)


def _replica_state(shape, dtype, amsgrad):
    zeros = np.zeros(shape, dtype)
    return (0.0, zeros, zeros.copy(), zeros.copy() if amsgrad else None)


def _adam(flags, beta1, **kw):
    decoupled, amsgrad, weight_decay, maximize = flags
    cls = hb.AdamW if decoupled else hb.Adam
    return cls(betas=(beta1, 0.99), eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, **kw)


def _hyper(flags, beta1, lr, power=np.power):
    decoupled, amsgrad, weight_decay, maximize = flags
    return dict(lr=lr, beta1=beta1, beta2=0.99, eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad,
                maximize=maximize, decoupled=decoupled, power=power)  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("beta1", BETA1S)
@pytest.mark.parametrize("flags", ADAM_FLAGS, ids=_flag_id)
def test_adam_step_equals_the_torch_replica_bitwise(flags, beta1, dtype):
    """Random gradients of mixed scales (including exact zeros) for 40 steps; a learning rate
    that changes every step (a schedule, so the bias corrections meet different step sizes)."""
    rng = np.random.default_rng(int(beta1 * 10) + 7 * ADAM_FLAGS.index(flags))
    shape = (5, 4)
    lrs = rng.uniform(0.01, 0.3, 40)
    opt = _adam(flags, beta1, lr=lambda k: float(lrs[k]))
    theta = rng.standard_normal(shape).astype(dtype)
    state = opt.init(theta)
    mine_theta, rep_state = theta.copy(), _replica_state(shape, dtype, flags[1])
    for k in range(40):
        grad = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)).astype(dtype)
        grad[0, 0] = 0.0
        theta, state = opt.step(theta, grad, state)
        mine_theta, rep_state = torch_adam_replica(mine_theta, grad, rep_state, **_hyper(flags, beta1, float(lrs[k])))
        assert theta.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(theta, mine_theta)  # bitwise: same operations, same order
        np.testing.assert_array_equal(state.exp_avg, rep_state[1])
        np.testing.assert_array_equal(state.exp_avg_sq, rep_state[2])
        if flags[1]:
            np.testing.assert_array_equal(state.max_exp_avg_sq, rep_state[3])
    assert state.step == rep_state[0] == 40


def _rowwise_grad(A, b, x):
    """``Aθ − b`` for each row ``θ`` of ``x``, as a left-to-right sum over coordinates
    (``Σ_j A[:, j]·θ_j``, then ``− b``), in ``x``'s dtype."""
    g = x[..., 0, None] * A[:, 0]
    for j in range(1, A.shape[0]):
        g = g + x[..., j, None] * A[:, j]
    return g - b


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("beta1", BETA1S)
@pytest.mark.parametrize("flags", ADAM_FLAGS, ids=_flag_id)
def test_iterate_on_a_quadratic_equals_the_torch_replica_bitwise(flags, beta1, dtype):
    """``iterate`` (the blocked kernel for Adam on a small quadratic) against the replica fed
    the quadratic's gradient: every recorded iterate bit for bit, a batch of 6 starts."""
    q = hb.Quadratic.from_eigenvalues([0.05, 0.4, 2.0], rotation="random", seed=3, b=[0.2, -0.1, 0.3])
    A, b = np.asarray(q.A, dtype), np.asarray(q.b, dtype)
    rng = np.random.default_rng(11)
    theta0 = rng.standard_normal((6, 3)).astype(dtype)
    steps = 150
    tr = hb.iterate(_adam(flags, beta1, lr=0.05), q, theta0, steps)
    x, st = theta0.copy(), _replica_state(theta0.shape, dtype, flags[1])
    ref = [x]
    for _ in range(steps):
        x, st = torch_adam_replica(x, _rowwise_grad(A, b, x), st, **_hyper(flags, beta1, 0.05))
        ref.append(x)
    assert tr.theta.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(tr.theta, np.stack(ref))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("beta1", BETA1S)
@pytest.mark.parametrize("flags", ADAM_FLAGS, ids=_flag_id)
def test_the_replica_matches_live_torch_step_by_step(torch, flags, beta1, dtype):
    """The replica is torch's operation order: from torch's own state at each step, the
    replica's next iterate and moments agree with torch to a few ulps of the largest magnitude
    among each operation's inputs and output. Not bit for bit: torch's vectorised CPU kernels
    fuse multiply-adds (``lerp``, ``addcmul``). Measured on this machine: at most 4 ulps for
    θ, 2 for ``exp_avg``, 1 for ``exp_avg_sq`` (float64 and float32); 16 leaves room for other
    CPUs' kernels, far below what a changed operation order gives (a swapped denominator
    ``sqrt(v/bc2)`` differs by ~1e3 ulps within a few steps)."""
    decoupled, amsgrad, weight_decay, maximize = flags
    rng = np.random.default_rng(5)
    d = 37  # longer than one SIMD vector, so torch's vectorised loop runs
    p = torch.tensor(rng.standard_normal(d).astype(dtype))
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], lr=0.05, betas=(beta1, 0.99), eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad,
              maximize=maximize)  # fmt: skip
    state = _replica_state(d, dtype, amsgrad)
    for _ in range(30):
        old = p.detach().numpy().copy()
        grad = rng.standard_normal(d).astype(dtype)
        p.grad = torch.tensor(grad)
        opt.step()
        m_old, v_old = state[1], state[2]
        new, state = torch_adam_replica(old, grad, state, **_hyper(flags, beta1, 0.05, power=pow))
        s = opt.state[p]
        # each result in ulps of the largest magnitude among its inputs and output
        checks = [(new, p.detach().numpy(), np.abs(old)),
                  (state[1], s["exp_avg"].numpy(), np.maximum(np.abs(m_old), np.abs(grad))),
                  (state[2], s["exp_avg_sq"].numpy(), np.maximum(v_old, grad * grad))]  # fmt: skip
        for mine, theirs, inputs in checks:
            ulps = np.max(np.abs(mine - theirs) / np.spacing(np.maximum(np.abs(theirs), inputs)))
            assert ulps <= 16, ulps
        # continue from torch's exact state
        state = (float(s["step"]), s["exp_avg"].numpy().copy(), s["exp_avg_sq"].numpy().copy(),
                 s["max_exp_avg_sq"].numpy().copy() if amsgrad else None)  # fmt: skip


def test_numpy_power_and_python_power_differ_by_at_most_one_ulp():
    """The one place where heavyball's Adam may leave torch's arithmetic: ``β**t`` by
    ``numpy.power`` (heavyball) against Python's ``**`` (torch). At most one ulp apart, for
    every step count up to 5000 and the usual betas."""
    t = np.arange(1.0, 5001.0)
    for beta in (0.3, 0.5, 0.9, 0.99, 0.999):
        mine = np.array([np.power(np.asarray(beta), s) for s in t])  # a 0-d array, as Adam keeps it
        ref = np.array([beta**s for s in t])
        assert np.max(np.abs(mine - ref) / np.spacing(ref)) <= 1.0, beta


@pytest.mark.parametrize("beta1", BETA1S)
@pytest.mark.parametrize("flags", ADAM_FLAGS, ids=_flag_id)
def test_adam_against_the_torch_exact_replica_over_a_run(flags, beta1):
    """With Python's power (torch's arithmetic, no substitution), 100 steps on a quadratic:
    the difference stays at rounding level. Measured at most 4.3e-15 of the run's scale
    (β₁ = 0.3), 3e-16 for β₁ = 0.9; 1e-13 allows a factor 20. (Longer runs with small β₁
    reach the chaotic regime near the minimiser, where one-ulp differences grow: 3e-11 by
    step 300 for β₁ = 0.3, which says nothing about the implementation.)"""
    q = hb.Quadratic.from_eigenvalues([0.05, 0.4, 2.0], rotation="random", seed=3, b=[0.2, -0.1, 0.3])
    A, b = np.asarray(q.A), np.asarray(q.b)
    theta0 = np.random.default_rng(2).standard_normal((4, 3))
    tr = hb.iterate(_adam(flags, beta1, lr=0.05), q, theta0, 100)
    x, st = theta0.copy(), _replica_state(theta0.shape, "float64", flags[1])
    worst = 0.0
    for k in range(100):
        x, st = torch_adam_replica(x, _rowwise_grad(A, b, x), st, **_hyper(flags, beta1, 0.05, power=pow))
        worst = max(worst, float(np.max(np.abs(tr.theta[k + 1] - x))))
    scale = float(np.max(np.abs(tr.theta)))
    assert worst <= 1e-13 * scale, worst / scale


# ---------------------------------------------------------------------------------------
# the fast path against exact rational arithmetic
# ---------------------------------------------------------------------------------------
def _exact_run(method, A, b, theta0, steps):
    """The iterates of ``method`` on ``f = ½θᵀAθ − bᵀθ`` in exact rational arithmetic, from the
    update rules as documented by torch (``SGD``) and by the heavy-ball ODE's semi-implicit
    Euler step (``HeavyBall``, ``NesterovLookahead``), in the original coordinates. Every float
    input is converted exactly (``Fraction(float)``), so this is the exact trajectory of the
    problem heavyball was given."""
    F = Fraction
    d = len(theta0)
    A = [[F(float(A[i][j])) for j in range(d)] for i in range(d)]
    b = [F(float(x)) for x in b]

    def grad(x):
        return [sum((A[i][j] * x[j] for j in range(d)), F(0)) - b[i] for i in range(d)]

    theta = [F(float(x)) for x in theta0]
    out = [theta]
    if isinstance(method, hb.SGD):
        lr, mu, tau, wd = (F(float(getattr(method, n))) for n in ("lr", "momentum", "dampening", "weight_decay"))
        buf = None
        for k in range(steps):
            g = grad(theta)
            if method.maximize:
                g = [-x for x in g]
            g = [gi + wd * ti for gi, ti in zip(g, theta, strict=True)]
            if mu != 0:
                if k == 0:
                    buf = list(g)  # torch: the first buffer is the gradient, undamped
                else:
                    buf = [mu * bi + (1 - tau) * gi for bi, gi in zip(buf, g, strict=True)]
                step = [gi + mu * bi for gi, bi in zip(g, buf, strict=True)] if method.nesterov else buf
            else:
                step = g
            theta = [ti - lr * si for ti, si in zip(theta, step, strict=True)]
            out.append(theta)
        return out
    eta, mu, dt = (F(float(getattr(method, n))) for n in ("eta", "mu", "dt"))
    look = isinstance(method, hb.NesterovLookahead)
    v = [F(0)] * d
    for _ in range(steps):
        y = [ti + dt * mu * vi for ti, vi in zip(theta, v, strict=True)] if look else theta
        v = [mu * vi - eta * gi for vi, gi in zip(v, grad(y), strict=True)]
        theta = [ti + dt * vi for ti, vi in zip(theta, v, strict=True)]
        out.append(theta)
    return out


LINEAR_METHODS = {
    "sgd": hb.SGD(lr=0.25, momentum=0.75),
    "sgd-dampening-wd": hb.SGD(lr=0.25, momentum=0.75, dampening=0.375, weight_decay=0.125),
    "sgd-nesterov-maximize": hb.SGD(lr=0.25, momentum=0.5, nesterov=True, maximize=True),
    "sgd-no-momentum-maximize": hb.SGD(lr=0.5, weight_decay=0.25, maximize=True),
    "heavyball": hb.HeavyBall(eta=0.5, mu=0.75, dt=0.5),
    "lookahead": hb.NesterovLookahead(eta=0.5, mu=0.625, dt=0.75),
}


def _problem_for(name):
    """A rotated quadratic; for ``maximize`` the negated one (ascending −f descends f)."""
    q = hb.Quadratic.from_eigenvalues([0.125, 0.75, 1.5], rotation="random", seed=4, b=[0.5, -0.25, 1.0])
    return hb.Quadratic(-np.asarray(q.A), -np.asarray(q.b)) if "maximize" in name else q


# The fast path rotates into the eigenbasis (eigh: eigenvectors to ~1e-15) and runs a
# three-term recurrence; measured against the exact trajectory its error is at most 3.1e-15 of
# the run's scale max_k ‖θ_k‖∞ over these 80 steps. 2e-14 leaves a factor 6.
RTOL_EXACT = 2e-14


@pytest.mark.parametrize("name", sorted(LINEAR_METHODS))
def test_fast_path_against_exact_rational_arithmetic(name):
    from heavyball import fastpath

    method, q = LINEAR_METHODS[name], _problem_for(name)
    theta0 = [1.0, -2.0, 0.5]
    assert fastpath.supports(method, q)  # so iterate takes the eigenbasis engine
    tr = hb.iterate(method, q, theta0, 80)
    exact = np.array([[float(x) for x in th] for th in _exact_run(method, q.A, q.b, theta0, 80)])
    scale = np.max(np.abs(exact))
    assert np.max(np.abs(tr.theta - exact)) <= RTOL_EXACT * scale
    # the rational trajectory moves: not a comparison of two constants
    assert np.max(np.abs(exact[-1] - exact[0])) > 0.1 * scale


def _exact_power_modes(method, h, c, z0, k):
    """Per mode (a diagonal quadratic: modes are coordinates), ``z_k`` by the exact power of the
    one-step map: the state ``(θ, buffer or velocity, 1)`` and its 3×3 affine matrix, built by
    applying the update rule to the basis vectors; the first SGD step (buffer = gradient) is
    applied separately. Repeated squaring in ``Fraction``."""
    F = Fraction
    out = []
    for hi, ci, zi in zip(h, c, z0, strict=True):
        hi, ci = F(float(hi)), F(float(ci))
        if isinstance(method, hb.SGD):
            lr, mu, tau, wd = (F(float(getattr(method, n))) for n in ("lr", "momentum", "dampening", "weight_decay"))
            s = -1 if method.maximize else 1

            def one(state, first, hi=hi, ci=ci, s=s, lr=lr, mu=mu, tau=tau, wd=wd):
                x, bf, one_ = state  # one_: the homogeneous coordinate (carries the constant −c)
                gx = s * (hi * x - ci * one_) + wd * x
                bf = gx if first else mu * bf + (1 - tau) * gx
                d = gx + mu * bf if method.nesterov else bf
                return (x - lr * d, bf, one_)

        else:
            eta, mu, dt = (F(float(getattr(method, n))) for n in ("eta", "mu", "dt"))
            look = isinstance(method, hb.NesterovLookahead)

            def one(state, first, hi=hi, ci=ci, eta=eta, mu=mu, dt=dt, look=look):
                x, v, one_ = state
                y = x + dt * mu * v if look else x
                gy = hi * y - ci * one_
                v = mu * v - eta * gy
                return (x + dt * v, v, one_)

        x = (F(float(zi)), F(0), F(1))
        if k == 0:
            out.append(x[0])
            continue
        x = one(x, True)
        cols = [one(e, False) for e in ((F(1), F(0), F(0)), (F(0), F(1), F(0)), (F(0), F(0), F(1)))]
        M = [[cols[j][i] for j in range(3)] for i in range(3)]
        P = [[F(int(i == j)) for j in range(3)] for i in range(3)]
        n = k - 1
        while n:
            if n & 1:
                P = [[sum(P[i][r] * M[r][j] for r in range(3)) for j in range(3)] for i in range(3)]
            M = [[sum(M[i][r] * M[r][j] for r in range(3)) for j in range(3)] for i in range(3)]
            n >>= 1
        out.append(sum(P[0][j] * x[j] for j in range(3)))
    return out


@pytest.mark.parametrize("name", sorted(LINEAR_METHODS))
def test_closed_form_iterate_against_exact_matrix_powers(name):
    """``closed_form_iterate`` (Lucas-style doubling) at k up to 1000 against the exact power
    of each mode's one-step map, on a diagonal quadratic (dyadic curvatures: every input is
    exact in binary). Measured error at most ~1e-15 of max(|z₀|, |z*|); 1e-13 allows the
    O(log k) roundings of the doubling to grow (they are not amplified: every mode contracts)."""
    method = LINEAR_METHODS[name]
    sign = -1.0 if "maximize" in name else 1.0
    h = np.array([0.125, 0.75, 1.5])
    c = np.array([0.5, -0.25, 1.0])
    q = hb.Quadratic(np.diag(sign * h), sign * c)
    theta0 = [1.0, -2.0, 0.5]
    star = np.abs(c / h)
    for k in (0, 1, 2, 3, 17, 200, 1000):
        got = hb.closed_form_iterate(method, q, theta0, k)
        ref = np.array([float(z) for z in _exact_power_modes(method, sign * h, sign * c, theta0, k)])
        scale = np.maximum(np.abs(theta0), star)
        assert np.all(np.abs(got - ref) <= 1e-13 * scale), (k, got, ref)


def _slowest_root(h, lr, mu):
    """max |z| over the roots of z² − (1 + μ − γh)z + μ (torch's SGD per curvature), over h."""
    return max(float(np.max(np.abs(np.roots([1.0, -(1.0 + mu - lr * hi), mu])))) for hi in h)


def test_float32_fast_path_against_a_float64_oracle():
    """float32 runs of the fast path against the same runs in float64 (the float64 fast path
    is within 3e-15 of exact arithmetic, above): the float32 error is the rounding of θ's
    modes, the eigenvectors and the coefficients to float32, carried by each mode's memory
    ~1/(1 − ρ). Measured over 320 random configurations (300 steps): error ≤ 4.9·ε₃₂/(1 − ρ)
    of the run's scale (median 0.5, worst absolute 138 ulps); the bound asserted is
    16·ε₃₂/(1 − ρ), a factor 3 above the worst measured."""
    eps32 = float(np.finfo(np.float32).eps)
    checked = 0
    for seed in range(12):
        r = np.random.default_rng(seed)
        eig = r.uniform(0.01, 1.0, 4)
        q = hb.Quadratic.from_eigenvalues(eig, rotation="random", seed=seed, b=r.standard_normal(4))
        lr, mu = r.uniform(0.1, 2.0, (8, 1)), r.uniform(0.0, 0.95, (8, 1))
        method = hb.SGD(lr=lr, momentum=mu)
        theta0 = r.standard_normal((8, 4)).astype(np.float32)
        low = hb.iterate(method, q, theta0, 300)
        high = hb.iterate(method, q, theta0.astype(np.float64), 300)
        assert low.theta.dtype == np.float32
        for i in range(8):
            rho = _slowest_root(eig, lr[i, 0], mu[i, 0])
            if rho >= 1.0:
                assert low.status[i] == high.status[i] == "diverged" or rho - 1.0 < 1e-6
                continue
            scale = np.max(np.abs(high.theta[:, i]))
            err = np.max(np.abs(low.theta[:, i].astype(np.float64) - high.theta[:, i])) / scale
            assert err <= 16 * eps32 / (1.0 - rho), (seed, i, err / eps32, rho)
            checked += 1
    assert checked >= 60  # most configurations are stable: the bound is exercised


# ---------------------------------------------------------------------------------------
# exact: the closed-form ODE solution against mpmath's matrix exponential at 40 digits
# ---------------------------------------------------------------------------------------
def _mp_mode(m, c, h, beta, x0, v0, t):
    """``(x(t), v(t))`` of ``m x'' + c x' + h x = β`` from mpmath's ``expm`` of the augmented
    first-order system ``[x, v, 1]' = [[0, 1, 0], [−h/m, −c/m, β/m], [0, 0, 0]]·[x, v, 1]`` at
    40 significant digits (no closed form, no regime distinction)."""
    import mpmath

    with mpmath.workdps(40):
        mpf = mpmath.mpf
        M = mpmath.matrix([[0, 1, 0], [-mpf(h) / m, -mpf(c) / m, mpf(beta) / m], [0, 0, 0]])
        z = mpmath.expm(M * mpf(t)) * mpmath.matrix([mpf(x0), mpf(v0), 1])
        return float(z[0]), float(z[1])


def test_exact_against_mpmath_on_random_modes():
    """120 random modes (30 oscillators × 4 curvatures) in every regime — underdamped,
    critical, within 1e-9 of critical, overdamped and strongly overdamped (4mh/c² down to 1e-6,
    where the far form of the solution is used) — at 3 random times in [0, 30].

    Error unit: each mode's scale, the largest of |x₀|, |x*|, |x₀ − x*| and the velocity's
    reach |v₀|·√(m/h) for θ (|v₀| and √(h/m)·|x₀ − x*| for v). The docstring promises at most
    3.5e-14; measured here at most 3.2e-15 (near-critical and strongly overdamped modes)."""
    rng = np.random.default_rng(2024)
    worst_x = worst_v = 0.0
    for i in range(30):
        m = float(np.exp(rng.uniform(np.log(0.1), np.log(10.0))))
        c = 0.0 if i == 0 else float(np.exp(rng.uniform(np.log(0.05), np.log(5.0))))
        crit = c * c / (4 * m)  # the critical curvature
        ratios = [rng.uniform(1.0, 100.0), 1.0, 1.0 + rng.choice([-1e-9, 1e-9]), rng.uniform(0.01, 1.0)]
        if i % 2:
            ratios[3] = float(np.exp(rng.uniform(np.log(1e-6), np.log(1e-2))))  # strongly overdamped
        h = np.array(ratios) * crit if c > 0 else np.exp(rng.uniform(np.log(1e-3), np.log(1e2), 4))
        beta, x0, v0 = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
        ts = np.sort(rng.uniform(0.0, 30.0, 3))
        sol = hb.exact(hb.HeavyBallODE(m, c), hb.Quadratic(np.diag(h), beta), x0, ts, v0=v0)
        assert sol.success
        for k in range(4):
            xs = beta[k] / h[k]
            scale_x = max(abs(x0[k]), abs(xs), abs(x0[k] - xs), abs(v0[k]) * np.sqrt(m / h[k]))
            scale_v = max(abs(v0[k]), np.sqrt(h[k] / m) * abs(x0[k] - xs))
            for j, t in enumerate(ts):
                x, v = _mp_mode(m, c, h[k], beta[k], x0[k], v0[k], t)
                worst_x = max(worst_x, abs(sol.theta[j, k] - x) / scale_x)
                worst_v = max(worst_v, abs(sol.v[j, k] - v) / scale_v)
    assert worst_x <= 3.5e-14 and worst_v <= 3.5e-14, (worst_x, worst_v)


# ---------------------------------------------------------------------------------------
# the stability hint of compare: the numbers it prints
# ---------------------------------------------------------------------------------------
def _printed(message, label):
    """The number printed after ``label = `` in ``message``."""
    match = re.search(re.escape(label) + r" = (-?[0-9.]+(?:e[-+]?[0-9]+)?)", message)
    assert match, (label, message)
    return float(match.group(1))


@pytest.mark.parametrize(
    ("m", "c", "dt", "t_final"),
    [(1.0, 0.5, 3.0, 15.0), (1.0, 0.5, 2.0, 100.0), (2.0, 0.2, 4.0, 40.0)],
)
def test_stability_hint_prints_the_right_numbers(m, c, dt, t_final):
    """Semi-implicit Euler of m·θ'' + c·θ' + ∇f = 0 is torch's SGD with lr = Δt²/m and
    μ = 1 − cΔt/m; on curvatures up to h_max it is stable iff lr·h_max < 2(1 + μ) (|μ| < 1).
    The message must print these numbers (to its 4 significant digits), computed here by hand."""
    q = hb.Quadratic.valley(kappa=10)  # curvatures 0.1 and 1
    cmp = hb.compare(hb.HeavyBallODE(m, c), q, [1.0, 1.0], dt=dt, t_final=t_final)
    mu = 1.0 - c * dt / m
    lr = dt * dt / m
    h_max = 1.0
    assert lr * h_max >= 2.0 * (1.0 + mu)  # these steps are unstable: the hint is printed
    assert cmp.status == "diverged" and not cmp.success
    for label, value in [("2(1 + mu)", 2.0 * (1.0 + mu)), ("lr·h_max", lr * h_max), ("h_max", h_max),
                         ("lr = dt·eta", lr)]:  # fmt: skip
        assert _printed(cmp.message, label) == pytest.approx(value, rel=5e-4), label  # 4 digits printed


# ---------------------------------------------------------------------------------------
# divergence: the first crossing, against iterates computed here
# ---------------------------------------------------------------------------------------
def _first_crossing(lr, mu, b, bound, steps):
    """torch's SGD on f(θ) = −bθ (h = 0: the gradient is the constant −b) from rest, stepped
    here in Python floats: the first k with |θ_k| > bound, or −1."""
    theta, buf = 0.0, 0.0
    for k in range(1, steps + 1):
        g = -b
        buf = g if k == 1 else mu * buf + g
        theta = theta - lr * buf
        if abs(theta) > bound:
            return k
    return -1


@pytest.mark.parametrize("record", ["all", "loss", "final"])
def test_fast_path_finds_the_first_crossing_of_a_drift_with_memory(record):
    """A flat direction with a constant force and momentum close to 1 grows like b·k²/2: within
    one certificate horizon the iterate grows far more than its current size (the Lucas factor
    |U_j| ≤ j·ρ^{j−1} of the double root at 1). The fast path must still report the exact first
    step past the bound 1e8·(1 + ‖θ₀‖), here about step 100 (computed by hand)."""
    from heavyball import fastpath

    q = hb.Quadratic([[0.0]], [2e4])  # f = −2e4·θ: unbounded, no minimiser
    method = hb.SGD(lr=1.0, momentum=0.999)
    assert fastpath.supports(method, q) and q.minimizer is None
    expected = _first_crossing(1.0, 0.999, 2e4, 1e8, 300)
    assert 64 < expected < 128  # inside the second certificate horizon
    tr = hb.iterate(method, q, [0.0], 300, record=record)
    assert tr.status == "diverged" and tr.diverged_at == expected


def test_a_nan_iterate_is_a_divergence_at_its_step():
    """A gradient that becomes NaN (here for |θ| ≥ 1) makes θ NaN without passing any bound;
    the run must report divergence at that step (θ₁ = −1 by hand, so θ₂ is NaN)."""

    def grad(t):
        t = np.asarray(t, dtype=float)
        return np.where(np.abs(t) < 1.0, t, np.nan)

    problem = hb.Objective(lambda t: 0.5 * np.sum(np.asarray(t) ** 2, axis=-1), grad, 1, name="NaN beyond 1")
    tr = hb.iterate(hb.SGD(lr=3.0), problem, [0.5], 10)  # θ₁ = 0.5 − 3·0.5 = −1
    assert tr.theta[1, 0] == -1.0
    assert tr.status == "diverged" and tr.diverged_at == 2


def test_measured_rate_with_maximize_weight_decay_and_a_linear_term():
    """Ascending −f with weight decay λ = 2 from a point where f has a linear term: the iterates
    converge to the fixed point of the effective gradient −(Aθ − b) + λθ, θ* = −(λI − A)⁻¹b
    (solved here), at the spectral radius of torch's step map (built here from torch's rule).
    With b ≠ 0 the fixed point is not the origin, so a fit against the wrong point stalls."""
    q = hb.Quadratic.from_eigenvalues([0.1, 0.5], rotation="random", seed=3, b=[1.0, -2.0])
    A, b = np.asarray(q.A), np.asarray(q.b)
    lr, mu, lam = 0.2, 0.1, 2.0
    opt = hb.SGD(lr=lr, momentum=mu, weight_decay=lam, maximize=True)
    G = -A + lam * np.eye(2)  # the effective Hessian
    step = np.block([[np.eye(2) - lr * G, -lr * mu * np.eye(2)], [G, mu * np.eye(2)]])  # (θ, b) after the first step
    oracle = float(np.max(np.abs(np.linalg.eigvals(step))))
    theta_star = np.linalg.solve(G, -b)
    res = rates.predicted_vs_measured(opt, q, np.array([1.0, -1.0]), None)
    assert res.status == "measured"
    assert res.predicted == pytest.approx(oracle, rel=1e-12)
    assert res.measured == pytest.approx(oracle, rel=1e-4)  # a fit over ~60 steps of a simple root
    # the run does converge to θ* (not to the minimiser of f, nor to 0)
    tr = hb.iterate(opt, q, [1.0, -1.0], 200)
    np.testing.assert_allclose(tr.theta[-1], theta_star, rtol=1e-10)
    assert np.linalg.norm(theta_star) > 0.5
