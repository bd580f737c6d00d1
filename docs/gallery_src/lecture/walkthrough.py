r"""
.. _walkthrough:

The lecture walkthrough
=======================

This page follows the lecture *Variantes de Gradient Descent: Momento, Fricción y ADAM*
(course *Modelos de Deep Learning*, Universidad ORT Uruguay, 15 September 2025) in the
order of its slides: weight decay, the full SGD algorithm, the momentum sum, the heavy-ball
model and its discretisation, valleys and dampening, Nesterov's two forms, and Adam. For
each slide it states the formula, runs the heavyball call that computes it (the code and
its output below are executed when the documentation is built) and shows the figure of the
catalogue that draws it. Where the slide's formula is loose or mixes two conventions, the
sympy derivation that settles it is quoted; all of them are on :doc:`/derivations`.

Symbols are those of the :doc:`/glossary`: γ (``lr``) is torch's learning rate, μ the
momentum, τ the dampening, λ the weight decay; m, c and Δt are the mass, friction and
time step of the continuous model.
"""

# %%
# The learning rate
# -----------------
#
# The lecture opens with gradient descent :math:`\theta_{t+1} = \theta_t - \gamma \nabla
# f(\theta_t)` and the question of the step γ. On a quadratic valley the answer is in the
# curvatures :math:`h_{\min} \le h \le h_{\max}` (the Hessian's eigenvalues): each
# eigen-direction is multiplied by :math:`1 - \gamma h` per step, so γ must stay below
# :math:`2/h_{\max}`, and the fastest uniform decay is at :math:`\gamma = 2/(h_{\min} +
# h_{\max})`.

import numpy as np

import heavyball as hb
from heavyball import figures, rates, symbolic

q = hb.Quadratic.valley(kappa=10)  # f = ½θᵀAθ with curvatures 0.1 and 1
for lr in (0.15, 1.0, 1.8, 2.1):
    tr = hb.iterate(hb.SGD(lr=lr), q, [-2.5, -0.35], steps=25)
    rho = rates.spectral_radius(q.eigenvalues, lr=lr, momentum=0.0)
    shrink = tr.distance[-1] / tr.distance[0]
    print(f"γ = {lr:4}: spectral radius ρ = {float(rho):.3f}; after 25 steps the distance is {shrink:.2e} of the first")

fig = figures.lr_regimes.make()

# %%
# Weight decay: L2 regularisation, coupled
# ----------------------------------------
#
# *Regularización*: the penalty :math:`J_\lambda(\theta) = J(\theta) + \frac{\lambda}{2}
# \|\theta\|_2^2` has the gradient :math:`\nabla J + \lambda \theta`, so one SGD step is
# :math:`\theta_{t+1} = (1 - \eta\lambda)\theta_t - \eta g_t`; ``weight_decay=λ`` of
# ``torch.optim.SGD`` adds :math:`\lambda\theta_t` to the gradient. heavyball's ``SGD`` does
# the same, so running it with ``weight_decay`` on f is running plain SGD on the
# regularised quadratic :meth:`Quadratic.with_weight_decay <heavyball.Quadratic.with_weight_decay>`
# (:math:`A + \lambda I`), and sympy derives the step.

lam = 0.1
coupled = hb.iterate(hb.SGD(lr=0.5, weight_decay=lam), q, [1.0, 1.0], steps=50)
regularised = hb.iterate(hb.SGD(lr=0.5), q.with_weight_decay(lam), [1.0, 1.0], steps=50)
print("largest difference between the two runs:", np.abs(coupled.theta - regularised.theta).max())
print("curvatures of the regularised valley:", q.with_weight_decay(lam).eigenvalues)

weight_decay = symbolic.DERIVATIONS["weight_decay"]()
print("one SGD step, first coordinate, derived:", weight_decay.result["sgd_step"][0])
print(weight_decay.check().message)

# %%
# The full SGD algorithm
# ----------------------
#
# *SGD completo*: with inputs γ, θ₀, λ, μ, τ and ``nesterov``, each step computes
# :math:`g_t \leftarrow \nabla J(\theta_{t-1}) + \lambda\theta_{t-1}`; then the buffer
# :math:`b_1 = g_1` at the first step and :math:`b_t = \mu b_{t-1} + (1-\tau) g_t` later;
# then :math:`g_t \leftarrow g_t + \mu b_t` with Nesterov, :math:`g_t \leftarrow b_t`
# without; and :math:`\theta_t = \theta_{t-1} - \gamma g_t`. :class:`heavyball.SGD` is this
# algorithm, in torch's operation order (the test suite compares it with
# ``torch.optim.SGD``). Its ``init``/``step`` pair makes the first steps visible:

opt = hb.SGD(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01)
theta = np.array([1.0, 1.0])
state = opt.init(theta)
for t in range(1, 4):
    grad = q.grad(theta)
    theta, state = opt.step(theta, grad, state)
    print(f"t = {t}: θ = {theta}")

# %%
# By hand, the same three steps as the slide writes them (the first step stores the
# gradient undamped):

theta, buf = np.array([1.0, 1.0]), None
for t in range(1, 4):
    g = q.grad(theta) + 0.01 * theta
    buf = g if t == 1 else 0.9 * buf + (1 - 0.5) * g
    theta = theta - 0.1 * buf
    print(f"t = {t}: θ = {theta}")

# %%
# The same algorithm, batched over many configurations at once: hyperparameters may be
# arrays. Here the whole range of momenta on the valley of :math:`\kappa = 100`, from the
# zig-zag of gradient descent to the runs along the valley floor:

valley = hb.Quadratic.valley(kappa=100)
momenta = np.array([0.0, 0.5, 0.81, 0.9])
runs = hb.iterate(hb.SGD(lr=1.0, momentum=momenta[:, None]), valley, np.tile([-10.0, 1.0], (4, 1)), steps=150)
for mu, distance in zip(momenta, runs.distance[-1], strict=True):
    print(f"μ = {mu:4}: distance to the minimiser after 150 steps {distance:.2e}")

fig = figures.valley_zigzag.make()

# %%
# The momentum sum
# ----------------
#
# *Interpretación del momento*: with :math:`\lambda = \tau = 0` and no Nesterov, unrolling
# the buffer gives :math:`\theta_{t} = \theta_{t-1} - \gamma \sum_{i=1}^{t} \mu^{t-i}
# g_i`: a gradient :math:`t - i` steps old enters with the weight :math:`\mu^{t-i}`, and the
# weights add up to :math:`(1-\mu^t)/(1-\mu) \to 1/(1-\mu)`, the effective memory (10 steps
# for μ = 0.9). The slide writes the sum for :math:`\theta_{t+1}` with the same range
# :math:`i = 1 \ldots t`; with torch's indexing (:math:`g_t = \nabla J(\theta_{t-1})`) it
# belongs to :math:`\theta_t` (see :doc:`/findings`). Feeding unit gradient impulses to
# ``SGD`` measures the weights:

momentum_sum = symbolic.DERIVATIONS["momentum_sum"]()
print("the step, derived:", momentum_sum.result["step"])
print("sum of the weights:", momentum_sum.result["weight_sum"])

mu, t = 0.9, 20
opt = hb.SGD(lr=1.0, momentum=mu)
weights = []
for i in range(1, t + 1):  # the weight of g_i in the step θ_t − θ_{t−1}: a unit gradient at step i only
    theta, state = np.zeros(1), opt.init(np.zeros(1))
    for k in range(1, t + 1):
        before = theta.copy()
        theta, state = opt.step(theta, np.array([1.0 if k == i else 0.0]), state)
    weights.append(before[0] - theta[0])
expected = mu ** (t - np.arange(1, t + 1))
print("weights of g_1, g_2, g_3:", np.round(weights[:3], 6), " μ^(t−i):", np.round(expected[:3], 6))
print("largest difference from μ^(t−i) over i = 1..20:", np.abs(np.array(weights) - expected).max())

fig = figures.momentum_memory.make()

# %%
# The heavy-ball model and its discretisation
# -------------------------------------------
#
# *Momento y amortiguamiento: modelo físico*: a ball of mass m with friction c on the
# landscape, :math:`\dot\theta = v`, :math:`m\dot v = -\nabla f(\theta) - c v`.
# :class:`heavyball.HeavyBallODE` is that model; :func:`heavyball.exact` solves it in closed
# form on a quadratic (per eigenmode, in every damping regime) and :func:`heavyball.simulate`
# numerically on any objective. The energy :math:`\frac12 m\|v\|^2 + f(\theta)` never
# increases: friction dissipates :math:`c\|v\|^2` per unit time.

ode = hb.HeavyBallODE(m=1.0, c=0.5)
q2 = hb.Quadratic.from_eigenvalues([0.25, 1.0])
sol = hb.exact(ode, q2, [-2.0, 1.0], np.linspace(0.0, 20.0, 401))
print("damping regimes of the two modes:", [hb.damping_regime(1.0, 0.5, h) for h in q2.eigenvalues])
print(
    "energy never increases:",
    bool(np.all(np.diff(sol.energy) <= 1e-12)),
    "; E(0) =",
    sol.energy[0],
    "E(20) =",
    sol.energy[-1],
)

fig = figures.heavy_ball_physics.make()

# %%
# The slide discretises with a step Δt and writes :math:`v_{t+1} = \mu v_t - \eta\nabla
# f(\theta_t)`, :math:`\theta_{t+1} = \theta_t + v_{t+1}` with :math:`\mu = 1 - c\Delta
# t/m` and :math:`\eta = \Delta t/m`. **The Δt finding**: semi-implicit Euler gives these μ
# and η for the *velocity* form, whose position update is :math:`\theta_{t+1} = \theta_t +
# \Delta t\, v_{t+1}`. In the form the slide writes, :math:`\theta_{t+1} = \theta_t +
# p_{t+1}` with :math:`p = \Delta t\, v` (which is torch's form), the gradient coefficient
# is :math:`\Delta t^2/m`: the scheme is ``SGD(lr=Δt²/m, momentum=1 − cΔt/m)``. Read
# literally, the slide's pairing discretises :math:`m\ddot\theta + c\dot\theta + \nabla
# f/\Delta t = 0`, another ODE. :func:`heavyball.discretize` returns the velocity form's
# (μ, η), :func:`heavyball.to_torch` torch's hyperparameters, and the ``discretization``
# derivation derives both readings with sympy:

m, c, dt = 1.0, 0.5, 0.1
print("velocity form (μ, η):", hb.discretize(m, c, dt))
print("torch's SGD:", hb.to_torch(m, c, dt))

discretization = symbolic.DERIVATIONS["discretization"]()
print("force coefficient of the slide's literal reading:", discretization.result["force_coefficient_lecture"])
for finding in discretization.findings:
    print("-", finding)

# %%
# Both forms are the same iteration: ``HeavyBall(η, μ, Δt)`` and ``SGD(**to_torch(m, c,
# Δt))`` give the same iterates, and they follow the ODE with an error that shrinks in
# proportion to Δt (a first-order method):

heavy = hb.iterate(hb.HeavyBall(*hb.discretize(m, c, dt), dt=dt), q2, [-2.0, 1.0], steps=200)
torch_form = hb.iterate(hb.SGD(**hb.to_torch(m, c, dt)), q2, [-2.0, 1.0], steps=200)
print("HeavyBall against SGD, largest difference:", np.abs(heavy.theta - torch_form.theta).max())
for step in (0.2, 0.1, 0.05):
    cmp = hb.compare(ode, q2, [-2.0, 1.0], dt=step, t_final=10.0)
    print(f"Δt = {step:5}: largest distance to the ODE on [0, 10] = {cmp.max_error:.4f}")

fig = figures.discrete_vs_continuous.make()

# %%
# The order of the semi-implicit scheme and of the two other frictions (implicit and
# exponential), fitted from the errors:

fig = figures.discretization_order.make()

# %%
# Valleys and dampening
# ---------------------
#
# *Interpretación geométrica en valles elípticos*: across an elongated valley the gradient
# changes sign (zig-zag), along it the gradient is coherent (momentum accelerates). On a
# quadratic this is exact: every curvature h gives a 2×2 linear recurrence whose roots set
# the rate, and the best (γ, μ) (Polyak's) puts all roots on the circle
# :math:`|z| = \sqrt{\mu}`. :mod:`heavyball.rates` computes them from the eigenvalues:

for tuned_family in ("gd", "heavyball", "nesterov"):
    tuned = rates.optimal_parameters(valley.h_min, valley.h_max, tuned_family)
    print(f"{tuned_family:9s}: lr {tuned.lr:.4f}, momentum {tuned.momentum:.4f}, rate per step {tuned.rate:.4f}")

fig = figures.rate_map.make()

# %%
fig = figures.characteristic_roots.make()

# %%
# With dampening τ, the slide writes the velocity as :math:`v_t = \mu^t g_1 + (1-\tau)
# \sum_{k=1}^{t} \mu^{t-k} g_k`. torch (and heavyball) store the first gradient undamped,
# :math:`b_1 = g_1`, so :math:`b_t = \mu^{t-1} g_1 + (1-\tau)\sum_{k=2}^{t}\mu^{t-k}g_k`:
# the two differ by a multiple of :math:`g_1`. The ``dampening`` derivation gives the
# difference:

dampening = symbolic.DERIVATIONS["dampening"]()
print("the lecture's closed form minus torch's:", dampening.result["lecture_minus_torch"])
for finding in dampening.findings:
    print("-", finding)

# %%
# Nesterov's two forms
# --------------------
#
# *Nesterov: forma conceptual*: take the gradient at the look-ahead point, :math:`y_t =
# \theta_t + \mu v_t` (the slide writes :math:`\theta_t - \eta\mu v_t`; see
# :doc:`/findings`), then :math:`v_{t+1} = \mu v_t - \eta\nabla f(y_t)`, :math:`\theta_{t+1}
# = \theta_t + v_{t+1}`. *Nesterov en PyTorch*: :math:`b_{t+1} = \mu b_t + g_t`, :math:`d_t
# = g_t + \mu b_{t+1}`, :math:`\theta_{t+1} = \theta_t - \gamma d_t`, the gradient taken at
# :math:`\theta_t`. They are one method in two sets of variables: torch's θ is the
# look-ahead point y of the conceptual form. :class:`heavyball.NesterovLookahead` runs the
# first, ``SGD(nesterov=True)`` the second:

lr, mu = 0.5, 0.9
conceptual = hb.iterate(hb.NesterovLookahead(lr, mu), q, [1.0, 1.0], steps=60)
implemented = hb.iterate(hb.SGD(lr=lr, momentum=mu, nesterov=True), q, [1.0, 1.0], steps=60)
print("final distances to the minimiser:", conceptual.distance[-1], implemented.distance[-1])
print("same rate, from the eigenvalues:", rates.spectral_radius(q.eigenvalues, lr=lr, momentum=mu, family="nesterov"))

nesterov = symbolic.DERIVATIONS["nesterov_equivalence"]()
for finding in nesterov.findings:
    print("-", finding)

fig = figures.nesterov_lookahead.make()

# %%
# In the limit of small steps, Nesterov's method with momentum :math:`(k-1)/(k+2)` follows
# the ODE :math:`\ddot X + \frac{3}{t}\dot X + \nabla f(X) = 0` of Su, Boyd and Candès:

fig = figures.nesterov_ode.make()

# %%
# Adam
# ----
#
# *Adam: idea y regla de actualización*: exponential moving averages of the gradient and its
# square, :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`, :math:`v_t = \beta_2 v_{t-1} +
# (1-\beta_2) g_t^2`, bias corrections :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat v_t
# = v_t/(1-\beta_2^t)`, and the step :math:`\theta_{t+1} = \theta_t - \alpha \hat m_t /
# (\sqrt{\hat v_t} + \varepsilon)`. :class:`heavyball.Adam` and :class:`heavyball.AdamW` run
# it as torch does (which places ε after dividing by :math:`\sqrt{1-\beta_2^t}`, as the slide
# does). For a constant gradient the bias-corrected moments are exact from the first step:

adam = symbolic.DERIVATIONS["adam_bias_correction"]()
print("m̂_t for a constant gradient:", adam.result["m_hat"])
print("v̂_t for a constant gradient:", adam.result["v_hat"])

opt = hb.Adam(lr=0.1)
theta, state = np.array([1.0, 1.0]), opt.init(np.array([1.0, 1.0]))
theta, state = opt.step(theta, np.array([0.5, -2.0]), state)
print("first Adam step from (1, 1) with gradient (0.5, −2):", theta, "(about ±lr per coordinate)")

# %%
# In the limit of small learning rates with fixed β, Adam's iterates follow the
# sign-gradient flow :math:`\theta' = -\nabla f/(|\nabla f| + \varepsilon)` (time
# :math:`t = k\gamma`): each coordinate moves at unit speed whatever the scale of its
# gradient. :func:`heavyball.compare_sign_flow` runs torch's Adam next to that flow; the
# error halves with the learning rate once it is well below :math:`1 - \beta_2`:

diag = hb.Quadratic([[1.0, 0.0], [0.0, 0.1]])
for lr in (4e-4, 2e-4, 1e-4):
    gap = hb.compare_sign_flow(diag, [1.0, 1.0], lr=lr, t_final=0.8, betas=(0.9, 0.99)).final_error
    print(f"γ = {lr:.0e}: distance between Adam and the sign-gradient flow at t = 0.8: {gap:.2e}")

# %%
# *Adam en la práctica*: the step is adaptive per coordinate. That suits a valley aligned
# with the coordinate axes and not a rotated one, while heavy ball is rotation-equivariant:

fig = figures.adam_rotation.make()

# %%
# All four methods, as torch runs them, on Rosenbrock's function:

fig = figures.rosenbrock.make()
