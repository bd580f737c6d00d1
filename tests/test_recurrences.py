"""The table of linear recurrences (``heavyball.recurrences``).

Oracles: the characteristic polynomial of the Jacobian of torch's SGD update written out here
in sympy (state ``(θ, b)``), and the optimisers' own ``step`` (torch's operation order) on a
one-dimensional quadratic ``f = ½hθ² − cθ``, run against the three-term recurrence the table
gives.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import heavyball as hb
from heavyball import recurrences


def _torch_step(theta, buf, grad, *, lr, momentum, nesterov):
    """torch's SGD step (no dampening, after the first step): b ← μb + g; d = g + μb or b."""
    buf = momentum * buf + grad
    direction = grad + momentum * buf if nesterov else buf
    return theta - lr * direction, buf


@pytest.mark.parametrize("family", ["heavyball", "nesterov"])
def test_trace_and_determinant_are_those_of_torchs_update(family):
    h, lr, mu, z, theta, buf = sp.symbols("h lr mu z theta b")
    new = _torch_step(theta, buf, h * theta, lr=lr, momentum=mu, nesterov=family == "nesterov")
    jac = sp.Matrix(new).jacobian([theta, buf])
    T, D = recurrences.trace_det(family, lr * h, mu)
    assert sp.expand(jac.charpoly(z).as_expr() - (z**2 - T * z + D)) == 0
    M = sp.Matrix(recurrences.iteration_matrix(family, lr * h, mu))
    assert sp.expand(M.charpoly(z).as_expr() - jac.charpoly(z).as_expr()) == 0
    assert sp.expand(recurrences.discriminant(family, lr * h, mu) - (T**2 - 4 * D)) == 0


def test_gd_is_heavy_ball_without_momentum():
    g, mu = sp.symbols("g mu")
    T, D = recurrences.trace_det("gd", g, mu)
    assert (T, D) == (1 - g, 0)
    assert recurrences.trace_det("heavyball", g, 0) == (T, D)
    with pytest.raises(ValueError, match="`family`"):
        recurrences.trace_det("adam", g, mu)


def test_numpy_and_sympy_give_the_same_numbers():
    g, mu = sp.symbols("g mu")
    rng = np.random.default_rng(0)
    G, MU = rng.uniform(0, 4, 50), rng.uniform(-0.5, 1.0, 50)
    for family in recurrences.FAMILIES:
        exact = [sp.lambdify((g, mu), e) for e in recurrences.trace_det(family, g, mu)]
        for got, f in zip(recurrences.trace_det(family, G, MU), exact, strict=True):
            np.testing.assert_allclose(np.broadcast_to(got, G.shape), f(G, MU) + 0 * G, rtol=1e-15, atol=0)


OPTIMIZERS = [
    hb.SGD(lr=0.3),
    hb.SGD(lr=0.3, dampening=0.5),  # no momentum: torch ignores dampening
    hb.SGD(lr=0.3, momentum=0.6),
    hb.SGD(lr=0.3, momentum=0.6, dampening=0.4, weight_decay=0.2),
    hb.SGD(lr=0.3, momentum=0.6, nesterov=True, maximize=True, weight_decay=3.0),
    hb.HeavyBall(eta=0.5, mu=0.7, dt=0.6),
    hb.NesterovLookahead(eta=0.5, mu=0.7, dt=0.6),
]


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: o.label)
def test_recurrence_of_reproduces_the_optimiser_steps(opt):
    # f = ½hθ² − cθ in 1-D: z_1 = (1 − γ₁ĥ)z_0 + γ₁ĉ, then z_{k+1} = Tz_k − Dz_{k−1} + γĉ
    h, c, steps = 0.8, 0.25, 40
    rec = recurrences.recurrence_of(opt)
    hh, cc = rec.curvature(h), rec.sign * c
    T, D = recurrences.trace_det(rec.family, rec.lr * hh, rec.momentum)
    z = [1.0, recurrences.first_step(rec.first_lr, hh) * 1.0 + rec.first_lr * cc]
    for _ in range(steps - 1):
        z.append(T * z[-1] - D * z[-2] + rec.lr * cc)
    theta = np.array([1.0])
    state = opt.init(theta)
    ref = [1.0]
    for _ in range(steps):
        y = opt.grad_point(theta, state)
        theta, state = opt.step(theta, h * y - c, state)
        ref.append(float(theta[0]))
    np.testing.assert_allclose(np.asarray(z, dtype=float), ref, rtol=1e-12, atol=1e-14)


def test_recurrence_of_dispatches_by_type_subclasses_included_and_refuses_the_rest():
    class Mine(hb.NesterovLookahead):
        pass

    assert recurrences.recurrence_of(Mine(eta=0.1, mu=0.5)).family == "nesterov"
    assert recurrences.recurrence_of(hb.SGD(lr=0.1, momentum=np.array([[0.0], [0.5]]))).family == "heavyball"
    for bad, word in (
        (hb.Adam(lr=0.1), "Adam"),
        (hb.SGD(lr=lambda k: 0.1), "schedule"),
        (hb.SGD(lr=np.array([[0.1, 0.2]])), "per-coordinate"),
    ):
        with pytest.raises(ValueError, match=word):
            recurrences.recurrence_of(bad)
    # equal values along the coordinate axis decouple too, when the dimension is given
    rec = recurrences.recurrence_of(hb.SGD(lr=np.array([[0.1, 0.1]])), dim=2)
    assert rec.lr.tolist() == [0.1]  # one configuration (batch shape (1,))
