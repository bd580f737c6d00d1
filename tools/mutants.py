"""Mutation testing: plant plausible one-line bugs, one at a time, and check that the tests notice.

Every numeric result of the package is meant to be checked against something independent
(a closed form, exact arithmetic, torch, mpmath, sympy). A test suite can pass while checking
the code against itself; planting a bug and watching the tests is how to find out. Each mutant
below is one plausible slip in one line — a sign, a factor 2, a power, torch's first-step rule,
a threshold, the order of two operations — written as the exact original text, the mutated
text, the test files that should notice, and what the bug means.

For each mutant the script copies the repository once into a temporary directory (the
working tree is never touched), replaces the original text (which must occur exactly once in
its file) by the mutated text, runs ``python -m pytest -x -q -m "not slow" <tests>`` with
``PYTHONPATH`` at the copy under a timeout, restores the file, and reports:

* ``KILLED``: a test failed (or the run timed out: a mutant that hangs is noticed too);
* ``SURVIVED``: every selected test passed;
* ``EQUIVALENT``: survived, and the mutant is documented as equivalent (no behavioural
  difference; the reason is printed) — not counted in the score;
* ``STALE``: the original text is not in the file (the code moved): the list must be updated;
* ``ERROR``: pytest could not run (no tests collected, bad usage).

Score: killed / (killed + survived). The survivors are listed with their descriptions.

Usage::

    python tools/mutants.py                     # every mutant, against this checkout
    python tools/mutants.py --repo PATH         # against another checkout (e.g. an older commit)
    python tools/mutants.py NAME [NAME ...]     # only these mutants
    python tools/mutants.py --list              # the list, nothing run
    python tools/mutants.py --check             # only report STALE mutants (fast, nothing run)

Not part of the test command: it runs the selected test files once per mutant (minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # relative to the repository root
    original: str  # exact text, must occur once in the file
    mutated: str
    tests: tuple[str, ...]  # test files (relative); those absent from the checkout are skipped
    description: str
    equivalent: str | None = None  # the reason, for a mutant with no behavioural difference
    #: the same bug where the code lives in another layout: ``(file, original, mutated)``
    #: triples, tried in order after the first; the first that applies is used
    moved: tuple[tuple[str, str, str], ...] = ()

    def variants(self) -> tuple[tuple[str, str, str], ...]:
        return ((self.file, self.original, self.mutated), *self.moved)


def M(name, file, original, mutated, tests, description, equivalent=None, moved=()) -> Mutant:
    tests = (tests,) if isinstance(tests, str) else tuple(tests)
    return Mutant(name, file, original, mutated, tuple(f"tests/{t}" for t in tests), description, equivalent,
                  tuple(moved))  # fmt: skip


R, FP, IT, RUN, FA, OP = (
    "heavyball/recurrences.py",
    "heavyball/fastpath.py",
    "heavyball/iterate.py",
    "heavyball/_run.py",
    "heavyball/_fastadam.py",
    "heavyball/optimizers.py",
)
RA, PR = "heavyball/rates.py", "heavyball/problems.py"
DY = "heavyball/dynamics/closed_form.py"
DS, DL, DC = (f"heavyball/discretization/{m}.py" for m in ("schemes", "limits", "comparison"))
SD = "heavyball/symbolic/derivations"

# fmt: off
MUTANTS: list[Mutant] = [
    # -- the table of linear recurrences ------------------------------------------------
    M("table-heavyball-trace", R, "return 1 + mu - g, mu", "return 1 + mu + g, mu",
      ["test_recurrences.py", "test_rates.py"], "heavy ball's trace with the gradient term's sign flipped"),
    M("table-nesterov-det", R, "return (1 + mu) * a, mu * a", "return (1 + mu) * a, mu",
      ["test_recurrences.py", "test_rates.py"], "Nesterov's determinant μ instead of μ(1 − γh)"),
    M("table-nesterov-disc", R, "return a * ((1 + mu) ** 2 * a - 4 * mu)", "return a * ((1 + mu) ** 2 * a - 2 * mu)",
      ["test_recurrences.py", "test_rates.py"], "Nesterov's factored discriminant with 2μ for 4μ"),
    M("table-first-step", R, "return 1.0 - first_lr * h", "return 1.0 + first_lr * h",
      ["test_recurrences.py", "test_fastpath.py"], "the first step's factor 1 + γ₁h"),
    M("table-torch-nesterov-first", R, 'return Recurrence("nesterov", gamma, mu, gamma * (1.0 + mu), sign, wd)',
      'return Recurrence("nesterov", gamma, mu, gamma, sign, wd)',
      ["test_recurrences.py", "test_fastpath.py"], "torch's Nesterov first step γ instead of γ(1 + μ)"),
    M("table-dampening-without-momentum", R,
      'tau = np.where(mu == 0.0, 0.0, hp("dampening", optimizer.dampening))', 'tau = hp("dampening", optimizer.dampening)',
      ["test_recurrences.py", "test_fastpath.py", "test_rates.py"],
      "dampening applied when momentum is 0 (torch keeps no buffer and ignores it)"),
    M("table-maximize-sign", R, "sign = -1.0 if optimizer.maximize else 1.0", "sign = 1.0",
      ["test_recurrences.py", "test_rates.py"], "maximize ignored in the recurrence"),
    M("table-dampening-factor", R, "lr = gamma * (1.0 - tau)", "lr = gamma",
      ["test_recurrences.py", "test_fastpath.py"], "dampening's factor 1 − τ dropped from the later steps"),
    M("table-physical-gamma", R, 'gamma = hp("dt", optimizer.dt) * hp("eta", optimizer.eta)', 'gamma = hp("eta", optimizer.eta)',
      ["test_recurrences.py", "test_fastpath.py"], "the physical forms' step γ = η instead of Δt·η"),
    # -- rates ----------------------------------------------------------------------------
    M("rates-hb-disc-square", RA, "return s, ((1.0 - mu) / (1.0 + s)) ** 2, (1.0 + s) ** 2",
      "return s, ((1.0 - mu) / (1.0 + s)), (1.0 + s) ** 2", "test_rates.py",
      "(1 − √μ) instead of (1 − √μ)² in the factored heavy-ball discriminant"),
    M("rates-nesterov-abs-trace", RA, "real = 0.5 * (np.abs(T) + np.sqrt(np.maximum(disc, 0.0)))",
      "real = 0.5 * (T + np.sqrt(np.maximum(disc, 0.0)))", "test_rates.py",
      "Nesterov's real-root radius without |T| (wrong for negative roots)"),
    M("rates-hb-radius-at-disc-zero", RA, "return np.where(disc < 0, parts[0], real)  # √μ",
      "return np.where(disc <= 0, parts[0], real)  # √μ", "test_rates.py",
      "the repeated root's modulus taken as √μ instead of ½|T|", equivalent=(
          "at disc = 0 exactly, T² = 4μ, so ½(|T| + √0) = √μ: both branches give the same radius "
          "(up to the rounding of |T|/2 against √μ, which the factored discriminant makes vanish)")),
    M("rates-jury-boundary", RA, "stable = (np.abs(D) < 1.0) & (np.abs(T) < 1.0 + D)",
      "stable = (np.abs(D) < 1.0) & (np.abs(T) <= 1.0 + D)", "test_rates.py",
      "is_stable accepts a root on the unit circle (γh = 2(1 + μ))"),
    M("rates-polyak-lr", RA, "lr = 4.0 / (s_max + s_min) ** 2", "lr = 4.0 / (s_max + s_min)", "test_rates.py",
      "Polyak's learning rate without the square",
      moved=[('heavyball/tunings.py', 'lr = 4.0 / (s_max + s_min) ** 2', 'lr = 4.0 / (s_max + s_min)')]),
    M("rates-nesterov-rate", RA, "rate = 1.0 - s_min / s_max", "rate = 1.0 - h_min / h_max", "test_rates.py",
      "Nesterov's tuned rate 1 − 1/κ instead of 1 − 1/√κ",
      moved=[('heavyball/tunings.py', 'rate = 1.0 - s_min / s_max', 'rate = 1.0 - h_min / h_max')]),
    M("rates-lessard-momentum", RA, "momentum = 1.0 - 4.0 / (s + 2.0)", "momentum = 1.0 - 2.0 / (s + 2.0)",
      "test_rates.py", "Lessard–Recht–Packard's momentum (s − 2)/(s + 2) miswritten",
      moved=[('heavyball/tunings.py', 'momentum = 1.0 - 4.0 / (s + 2.0)', 'momentum = 1.0 - 2.0 / (s + 2.0)')]),
    M("rates-critical-momentum", RA, "return _out((1.0 - np.sqrt(gh)) ** 2)", "return _out(1.0 - np.sqrt(gh))",
      "test_rates.py", "critical momentum without the square",
      moved=[('heavyball/tunings.py', 'return _out((1.0 - np.sqrt(gh)) ** 2)', 'return _out(1.0 - np.sqrt(gh))')]),
    M("rates-ode-underdamped", RA, "return np.where(disc < 0, c / (2.0 * m), over)",
      "return np.where(disc < 0, c / m, over)", "test_rates.py", "the underdamped ODE's rate c/m instead of c/(2m)",
      moved=[('heavyball/tunings.py', 'return np.where(disc < 0, c / (2.0 * m), over)', 'return np.where(disc < 0, c / m, over)')]),
    M("rates-optimal-damping", RA, "return _out(2.0 * np.sqrt(m * h_min))", "return _out(np.sqrt(m * h_min))",
      "test_rates.py", "optimal damping √(m h) instead of 2√(m h)",
      moved=[('heavyball/tunings.py', 'return _out(2.0 * np.sqrt(m * h_min))', 'return _out(np.sqrt(m * h_min))')]),
    M("rates-measured-maximize", RA, "A_eff = sign * np.asarray(q.A) + shift * np.eye(q.dim)",
      "A_eff = np.asarray(q.A) + shift * np.eye(q.dim)", ["test_rates.py", "test_oracles.py"],
      "predicted_vs_measured's fixed point ignores maximize"),
    M("rates-measured-fixed-point", RA, "theta_star = np.linalg.solve(A_eff, sign * np.asarray(q.b))",
      "theta_star = np.linalg.solve(A_eff, np.asarray(q.b))", ["test_rates.py", "test_oracles.py"],
      "the fixed point's right-hand side without maximize's sign"),
    # -- the fast path --------------------------------------------------------------------
    M("fast-maximize-curvature", FP, "hh = self.sign * self.h[:, None] + lam", "hh = self.h[:, None] + lam",
      ["test_fastpath.py", "test_oracles.py"], "the fast path ignores maximize's sign on the curvature"),
    M("fast-affine-term", FP, "e = None if cc is None else gamma * cc", "e = None if cc is None else first * cc",
      ["test_fastpath.py", "test_oracles.py"], "the later steps' affine term with the first step's rate"),
    M("fast-lucas-double", FP, "t2 -= t1  # 2U_{j+1} − aU_j", "t2 += t1  # 2U_{j+1} − aU_j",
      ["test_fastpath.py", "test_oracles.py"], "Lucas doubling U_{2j} = U_j(2U_{j+1} + aU_j)"),
    M("fast-lucas-odd", FP, "u2 += t1  # U_{2j+1}", "u2 -= t1  # U_{2j+1}",
      ["test_fastpath.py", "test_oracles.py"], "Lucas doubling U_{2j+1} = U_{j+1}² − mU_j²"),
    M("fast-lucas-sum", FP, "np.add(u2, 1.0, out=t2)", "np.add(u2, 2.0, out=t2)",
      ["test_fastpath.py", "test_oracles.py"], "the doubling of the affine sum G_{2j} with 2 + U_{j+1}"),
    M("fast-certificate", FP, "return 2.0 * (n + 1) * np.maximum(rho, 1.0) ** n",
      "return 2.0 * np.maximum(rho, 1.0) ** n", ["test_fastpath.py", "test_oracles.py"],
      "the divergence certificate without the factor n + 1 of a repeated root (|U_j| <= j·ρ^{j−1})"),
    # -- iterate --------------------------------------------------------------------------
    M("iterate-bound-minimizer", RUN, "bound = DIVERGENCE_FACTOR * (1.0 + norm0 + star)",
      "bound = DIVERGENCE_FACTOR * (1.0 + norm0)", ["test_iterate.py"],
      "the divergence bound forgets ‖θ*‖ (a far minimiser reads as divergence)",
      moved=[('heavyball/iterate.py', 'bound = DIVERGENCE_FACTOR * (1.0 + norm0 + star)', 'bound = DIVERGENCE_FACTOR * (1.0 + norm0)')]),
    M("iterate-nan-rows", IT, "bad = ~(row_norm_sq(theta) <= bound2)  # also catches NaN and inf",
      "bad = row_norm_sq(theta) > bound2  # also catches NaN and inf", ["test_iterate.py", "test_oracles.py"],
      "NaN rows are no longer diverging",
      moved=[('heavyball/iterate.py', 'bad = ~(_row_norm_sq(theta) <= bound2)  # also catches NaN and inf', 'bad = _row_norm_sq(theta) > bound2  # also catches NaN and inf')]),
    # -- Adam's blocked kernel --------------------------------------------------------------
    M("fastadam-decay-lr", FA, "wdf = _cast(1.0 - lr * _cols(K.method.weight_decay, sl), K.dtype)",
      "wdf = _cast(1.0 - _cols(K.method.weight_decay, sl), K.dtype)", ["test_fastpath.py", "test_oracles.py"],
      "AdamW's decoupled decay 1 − λ instead of 1 − γλ in the kernel",
      moved=[('heavyball/_fastadam.py', 'wdf = decay_factor(lr, _cols(K.method.weight_decay, sl), K.dtype)', 'wdf = decay_factor(1.0, _cols(K.method.weight_decay, sl), K.dtype)')]),
    M("fastadam-bias-power", FA, "bc2s = [np.power(1.0 - np.power(self.c.beta2, float(t)), 0.5) for t in range(1, steps + 1)]",
      "bc2s = [np.power(1.0 - np.power(self.c.beta2, float(t)), 1.0) for t in range(1, steps + 1)]",
      ["test_fastpath.py", "test_oracles.py"], "the kernel's bias correction without the square root",
      moved=[('heavyball/_adamkernel.py', 'return cast(-(lr / bias_correction1), dtype), cast(np.power(bias_correction2, 0.5), dtype)', 'return cast(-(lr / bias_correction1), dtype), cast(np.power(bias_correction2, 1.0), dtype)')]),
    M("fastadam-gradient-sign", FA, "np.subtract(g, b_col, out=g)", "np.add(g, b_col, out=g)",
      ["test_fastpath.py", "test_oracles.py"], "the kernel's gradient Aθ + b",
      moved=[('heavyball/_fastadam.py', 'np.subtract(g, K.b_col, out=g)', 'np.add(g, K.b_col, out=g)')]),
    M("fastadam-denominator-order", FA, "np.divide(s1, bc2s_c, out=s1)",
      "np.sqrt(np.divide(src, bc2s_c * bc2s_c), out=s1)", ["test_fastpath.py", "test_oracles.py"],
      "the kernel's denominator √(v/bc2) instead of √v/√bc2 (a difference in rounding only)",
      moved=[('heavyball/_adamkernel.py', 'np.divide(denom, bc2_sqrt, out=denom)', 'np.sqrt(np.divide(source, bc2_sqrt * bc2_sqrt), out=denom)')]),
    # -- the optimisers ---------------------------------------------------------------------
    M("sgd-first-step-dampened", OP, "np.copyto(buf, g)",
      "np.multiply(g, 1.0 if c.alpha is None else c.alpha, out=buf)", ["test_optimizers.py"],
      "torch's first step dampened (torch stores b₁ = g₁ undamped)"),
    M("sgd-dampening", OP, "alpha = None if not _is_nonzero(self.dampening) else _cast(1.0 - self.dampening, dtype)",
      "alpha = None if not _is_nonzero(self.dampening) else _cast(self.dampening, dtype)", ["test_optimizers.py"],
      "dampening's factor τ instead of 1 − τ"),
    M("sgd-nesterov", OP, "np.add(d, g, out=d)", "np.subtract(d, g, out=d)", ["test_optimizers.py"],
      "torch's Nesterov direction μb − g"),
    M("adam-lerp-branch", OP, "small = np.abs(w) < 0.5", "small = np.abs(w) <= 0.5", ["test_optimizers.py", "test_oracles.py"],
      "torch's lerp switches branch at weight 0.5 (β₁ = 0.5 then takes the wrong formula; rounding only)",
      moved=[('heavyball/_adamkernel.py', 'small = np.abs(w) < 0.5', 'small = np.abs(w) <= 0.5')]),
    M("adam-eps", OP, "np.add(denom, c.eps, out=denom)", "np.add(denom, c.eps * c.eps, out=denom)",
      ["test_optimizers.py"], "Adam's ε squared",
      moved=[('heavyball/_adamkernel.py', 'np.add(denom, c.eps, out=denom)', 'np.add(denom, c.eps * c.eps, out=denom)')]),
    M("adamw-decay-lr", OP, "np.multiply(theta, _cast(1.0 - lr * self.weight_decay, dtype), out=theta)",
      "np.multiply(theta, _cast(1.0 - self.weight_decay, dtype), out=theta)", ["test_optimizers.py"],
      "AdamW's decoupled decay 1 − λ instead of 1 − γλ",
      moved=[('heavyball/_adamkernel.py', 'return cast(1.0 - lr * weight_decay, dtype)', 'return cast(1.0 - weight_decay, dtype)')]),
    M("adam-step-count", OP, "t = float(state.step + 1)  # step_t += 1", "t = float(state.step + 2)  # step_t += 1",
      ["test_optimizers.py"], "the bias corrections one step ahead",
      moved=[('heavyball/optimizers.py', 'neg_step_size, bc2_sqrt = adam_scalars(c, lr, float(state.step + 1), dtype)  # step_t += 1', 'neg_step_size, bc2_sqrt = adam_scalars(c, lr, float(state.step + 2), dtype)  # step_t += 1')]),
    M("adam-bias-power", OP, "bias_correction2_sqrt = np.power(bias_correction2, 0.5)",
      "bias_correction2_sqrt = np.power(bias_correction2, 1.0)", ["test_optimizers.py"],
      "Adam's second bias correction off (its square root dropped; in the shared kernel layout: β₂ one power ahead)",
      moved=[('heavyball/_adamkernel.py', 'bias_correction2 = 1.0 - np.power(c.beta2, t)', 'bias_correction2 = 1.0 - np.power(c.beta2, t + 1.0)')]),
    M("heavyball-velocity-sign", OP, "np.subtract(v, np.multiply(grad, eta, out=scratch[0]), out=v)",
      "np.add(v, np.multiply(grad, eta, out=scratch[0]), out=v)", ["test_optimizers.py"],
      "the heavy ball's velocity v ← μv + ηg"),
    M("lookahead-point", OP, "return _HBConsts(_cast(self.mu, dtype), eta, dt, _cast(self.dt * self.mu, dtype))",
      "return _HBConsts(_cast(self.mu, dtype), eta, dt, _cast(self.mu, dtype))", ["test_optimizers.py"],
      "the look-ahead point θ + μv instead of θ + Δt·μ·v"),
    # -- the ODE's closed form --------------------------------------------------------------
    M("exact-discriminant", DY, "D = (c * c - 4.0 * m * h) / (4.0 * m * m)", "D = (c * c - 4.0 * m * h) / (4.0 * m)",
      ["test_dynamics.py"], "δ² with 4m instead of 4m²",
      moved=[('heavyball/dynamics.py', 'D = (c * c - 4.0 * m * h) / (4.0 * m * m)', 'D = (c * c - 4.0 * m * h) / (4.0 * m)')]),
    M("exact-far-threshold", DY, "far = u > 1.0", "far = u > 1e6", ["test_dynamics.py", "test_oracles.py"],
      "the overdamped far form used only from δt > 1000 (cosh(δt) overflows before: e^{−at}·inf)",
      moved=[('heavyball/dynamics.py', 'far = u > 1.0', 'far = u > 1e6')]),
    M("exact-critical", DY, "K[sl], G[sl], Gp[sl] = e * (1.0 + aS), e * t, e * (1.0 - aS)",
      "K[sl], G[sl], Gp[sl] = e * (1.0 - aS), e * t, e * (1.0 - aS)", ["test_dynamics.py"],
      "the critically damped mode's K = e^{−at}(1 − at)",
      moved=[('heavyball/dynamics.py', 'K[sl], G[sl], Gp[sl] = e * (1.0 + aS), e * t, e * (1.0 - aS)', 'K[sl], G[sl], Gp[sl] = e * (1.0 - aS), e * t, e * (1.0 - aS)')]),
    M("exact-underdamped-S", DY, "S /= omega", "S *= omega", ["test_dynamics.py"],
      "the underdamped S = sin(ωt)·ω instead of sin(ωt)/ω",
      moved=[('heavyball/dynamics.py', 'S /= omega', 'S *= omega')]),
    M("exact-flow-rate", DY, "lam = k * h[:, None]", "lam = h[:, None]", ["test_dynamics.py"],
      "the gradient flow's rate ignores its time scale",
      moved=[('heavyball/dynamics.py', 'lam = k * h[:, None]', 'lam = h[:, None]')]),
    # -- discretisation -------------------------------------------------------------------
    M("disc-semi-implicit-eta", DS, "mu, eta = 1.0 - x, dt / m", "mu, eta = 1.0 - x, dt", ["test_discretization.py"],
      "η = Δt instead of Δt/m",
      moved=[('heavyball/discretization.py', 'mu, eta = 1.0 - x, dt / m', 'mu, eta = 1.0 - x, dt')]),
    M("disc-implicit-friction-eta", DS, "mu, eta = m / (m + c * dt), dt / (m + c * dt)",
      "mu, eta = m / (m + c * dt), dt / m", ["test_discretization.py"], "Qian's η without the friction",
      moved=[('heavyball/discretization.py', 'mu, eta = m / (m + c * dt), dt / (m + c * dt)', 'mu, eta = m / (m + c * dt), dt / m')]),
    M("disc-exponential-mu", DS, "mu, eta = np.exp(-x), dt / m", "mu, eta = np.exp(-x / 2), dt / m",
      ["test_discretization.py"], "the exponential scheme's μ = e^{−cΔt/(2m)}",
      moved=[('heavyball/discretization.py', 'mu, eta = np.exp(-x), dt / m', 'mu, eta = np.exp(-x / 2), dt / m')]),
    M("disc-to-torch-lr", DS, "lr = np.asarray(dt, dtype=np.float64) * eta", "lr = np.asarray(eta, dtype=np.float64)",
      ["test_discretization.py", "test_torch_parity.py"], "the Δt subtlety: torch's lr = η instead of Δt·η",
      moved=[('heavyball/discretization.py', 'lr = np.asarray(dt, dtype=np.float64) * eta', 'lr = np.asarray(eta, dtype=np.float64)')]),
    M("disc-continuum-c", DS, 'c = (-np.log(mu) if scheme == "exponential" else 1.0 - mu) / eta',
      'c = (-np.log(mu) if scheme == "exponential" else 1.0 - mu) / dt', ["test_discretization.py"],
      "continuum's friction (1 − μ)/Δt instead of (1 − μ)/η",
      moved=[('heavyball/discretization.py', 'c = (-np.log(mu) if scheme == "exponential" else 1.0 - mu) / eta', 'c = (-np.log(mu) if scheme == "exponential" else 1.0 - mu) / dt')]),
    M("disc-modified-coefficient", DL, "coef = (1.0 + mu) / (2.0 * (1.0 - mu) ** 3)",
      "coef = (1.0 + mu) / (2.0 * (1.0 - mu) ** 2)", ["test_discretization.py"],
      "the heavy ball's modified-equation coefficient with (1 − μ)²",
      moved=[('heavyball/discretization.py', 'coef = (1.0 + mu) / (2.0 * (1.0 - mu) ** 3)', 'coef = (1.0 + mu) / (2.0 * (1.0 - mu) ** 2)')]),
    M("disc-flow-limit", DL, "return GradientFlowODE(scale=1.0 / (1.0 - mu))", "return GradientFlowODE(scale=1.0 / (1.0 + mu))",
      ["test_discretization.py"], "the fixed-momentum limit's time scale 1/(1 + μ)",
      moved=[('heavyball/discretization.py', 'return GradientFlowODE(scale=1.0 / (1.0 - mu))', 'return GradientFlowODE(scale=1.0 / (1.0 + mu))')]),
    M("disc-stability-hint", DC, "against 2(1 + mu) = {2 * (1 + mu):.4g})", "against 2(1 + mu) = {(1 + mu):.4g})",
      ["test_discretization.py", "test_oracles.py"], "the stability hint prints (1 + μ) after the text 2(1 + mu)",
      moved=[('heavyball/discretization.py', 'against 2(1 + mu) = {2 * (1 + mu):.4g})', 'against 2(1 + mu) = {(1 + mu):.4g})')]),
    # -- problems ---------------------------------------------------------------------------
    M("problems-valley", PR, "h_min = h_max / kappa", "h_min = 1.0 / kappa", ["test_problems.py"],
      "the valley's small curvature ignores h_max"),
    M("problems-value-half", PR, "return np.sum((0.5 * _rowwise_matvec(theta, A) - b) * theta, axis=-1)",
      "return np.sum((_rowwise_matvec(theta, A) - b) * theta, axis=-1)", ["test_problems.py"],
      "f = θᵀAθ − bᵀθ without the ½"),
    M("problems-weight-decay", PR, "return Quadratic(self._A + lam * np.eye(self.dim), self._b)",
      "return Quadratic(self._A + 0.5 * lam * np.eye(self.dim), self._b)", ["test_problems.py"],
      "weight decay λ/2 on the curvature"),
    M("problems-rosenbrock-grad", PR, "gx = -2 * (self.a - x) - 4 * self.b * x * r",
      "gx = -2 * (self.a - x) + 4 * self.b * x * r", ["test_problems.py"], "Rosenbrock's ∂f/∂x with a sign slip"),
    M("problems-matvec-column", PR, "out += theta[..., j, None] * A[j]", "out += theta[..., j, None] * A[:, j]",
      ["test_problems.py"], "the row-wise product with A's column j instead of its row",
      equivalent="A is stored exactly symmetric (Quadratic symmetrises it: ½(A + Aᵀ)), so row j equals column j bit for bit",
      moved=[('heavyball/problems.py', 'return small_matvec([theta[..., j, None] for j in range(d)], A, out, np.empty_like(out))', 'return small_matvec([theta[..., j, None] for j in range(d)], A.T, out, np.empty_like(out))')]),
    # -- gradient noise, exact moments, the heavy-ball SDE ------------------------------------
    M("noise-isotropic-cov", "heavyball/noise.py", "return np.eye(d) * float(self.sigma) ** 2",
      "return np.eye(d) * float(self.sigma)", ["test_noise.py"], "isotropic noise covariance σ instead of σ²"),
    M("moments-stationary-mean", "heavyball/exact_moments.py", "z_mean = s.forcing / (1.0 - s.T + s.D)",
      "z_mean = s.forcing / (1.0 + s.T + s.D)", ["test_exact_moments.py"],
      "the stationary mean of a mode with the characteristic polynomial at −1 instead of 1"),
    M("sde-from-discrete-sigma", "heavyball/sde.py", "sigma: Any = float(noise.sigma) * math.sqrt(dt)",
      "sigma: Any = float(noise.sigma) * dt", ["test_sde.py"], "the SDE's diffusion σ·Δt instead of σ·√Δt"),
    M("sde-em-amplitude", "heavyball/sde.py", "self.amp = (math.sqrt(dt) / m) * (sde.sigma if self.scalar else S)",
      "self.amp = (dt / m) * (sde.sigma if self.scalar else S)", ["test_sde.py"],
      "Euler–Maruyama's noise increment with Δt instead of √Δt"),
    # -- Adam in continuous time ----------------------------------------------------------------
    M("adam-ode-bias", "heavyball/adam_ode.py", "return rate / -np.expm1(-rate * np.asarray(t, dtype=np.float64))",
      "return rate / np.expm1(rate * np.asarray(t, dtype=np.float64))", ["test_adam_ode.py"],
      "the continuous bias correction r/(e^{rt} − 1) instead of r/(1 − e^{−rt})"),
    M("adam-heavy-ball-mass", "heavyball/adam_limits.py", "AdamHeavyBall(mass=lr / (1.0 - beta1), friction=1.0",
      "AdamHeavyBall(mass=lr / (1.0 + beta1), friction=1.0", ["test_adam_ode.py"],
      "Adam's heavy-ball mass γ/(1 + β₁) instead of γ/(1 − β₁)"),
    # -- symbolic derivations -----------------------------------------------------------------
    M("sym-stability-heavyball", f"{SD}/characteristic_polynomials.py", "lr * h < 2 * (1 + mu)),",
      "lr * h < (1 + mu)),", ["test_symbolic.py"], "the derived stability condition γh < 1 + μ",
      moved=[('heavyball/symbolic.py', 'lr * h < 2 * (1 + mu)),', 'lr * h < (1 + mu)),')]),
    M("sym-torch-lr", f"{SD}/discretization.py", 'claim("lr", lr_map, dt**2 / m, box, note="torch\'s learning rate"),',
      'claim("lr", lr_map, dt / m, box, note="torch\'s learning rate"),', ["test_symbolic.py"],
      "torch's learning rate claimed as Δt/m",
      moved=[('heavyball/symbolic.py', 'claim("lr", lr_map, dt**2 / m, box, note="torch\'s learning rate"),', 'claim("lr", lr_map, dt / m, box, note="torch\'s learning rate"),')]),
    M("sym-critical-damping", f"{SD}/continuous_regimes.py", 'claim("critical_damping", crit, 2 * sp.sqrt(m * h), box),',
      'claim("critical_damping", crit, sp.sqrt(m * h), box),', ["test_symbolic.py"], "critical damping claimed as √(m h)",
      moved=[('heavyball/symbolic.py', 'claim("critical_damping", crit, 2 * sp.sqrt(m * h), box),', 'claim("critical_damping", crit, sp.sqrt(m * h), box),')]),
    M("sym-adam-denominator", f"{SD}/adam_bias_correction.py",
      "theta_torch = theta0 + (-lr / bc1) * m1 / (sp.sqrt(v1) / sp.sqrt(bc2) + eps)",
      "theta_torch = theta0 + (-lr / bc1) * m1 / (sp.sqrt(v1 / bc2) + eps)", ["test_symbolic.py"],
      "the symbolic torch step with √(v/bc2)", equivalent=(
          "exactly equal in real arithmetic (v1 and bc2 are positive symbols, so √v/√bc2 = √(v/bc2)); "
          "the floating-point difference is tested on the numeric kernels instead"),
      moved=[('heavyball/symbolic.py', 'theta_torch = theta0 + (-lr / bc1) * m1 / (sp.sqrt(v1) / sp.sqrt(bc2) + eps)', 'theta_torch = theta0 + (-lr / bc1) * m1 / (sp.sqrt(v1 / bc2) + eps)')]),
]
# fmt: on


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def _files(repo: Path) -> list[str]:
    """The repository's files (tracked and untracked, not ignored), relative paths."""
    if (repo / ".git").exists():
        out = subprocess.run(["git", "-C", str(repo), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                             check=True, capture_output=True, text=True).stdout  # fmt: skip
        return [p for p in out.split("\0") if p and (repo / p).is_file()]
    skip = {"__pycache__", ".git", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
    return [str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file() and not skip & set(p.parts)]


def _copy(repo: Path, dest: Path) -> None:
    for rel in _files(repo):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, target)


def _state(copy: Path, mutant: Mutant) -> tuple[str, tuple[str, str, str, str] | None, list[str]]:
    """``("ok", (file, source, original, mutated), tests)`` for the first variant whose original
    text occurs exactly once in its file, else ``(reason, None, [])``: the mutant is stale."""
    reasons = []
    for file, original, mutated in mutant.variants():
        path = copy / file
        if not path.is_file():
            reasons.append(f"{file} does not exist")
            continue
        source = path.read_text(encoding="utf-8")
        n = source.count(original)
        if n == 1:
            return "ok", (file, source, original, mutated), [t for t in mutant.tests if (copy / t).is_file()]
        reasons.append(f"the original text occurs {n} times in {file}")
    return "stale: " + "; ".join(reasons), None, []


def run_one(copy: Path, mutant: Mutant, timeout: float) -> tuple[str, str, float]:
    """``(outcome, detail, seconds)`` for one mutant applied to ``copy``."""
    state, found, tests = _state(copy, mutant)
    if found is None:
        return "STALE", state, 0.0
    if not tests:
        return "ERROR", f"none of its test files exist here ({', '.join(mutant.tests)})", 0.0
    file, source, original, mutated = found
    path = copy / file
    path.write_text(source.replace(original, mutated), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(copy), OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        code, tail = proc.returncode, (proc.stdout.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        code, tail = None, f"timed out after {timeout:g} s"
    finally:
        path.write_text(source, encoding="utf-8")
    seconds = time.perf_counter() - start
    if code is None or code in (1, 2):  # failures, or an error while collecting (also noticed)
        return "KILLED", tail, seconds
    if code == 0:
        return ("EQUIVALENT" if mutant.equivalent else "SURVIVED"), tail, seconds
    return "ERROR", f"pytest exit code {code}: {tail}", seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only these mutants")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout to mutate (default: this one)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant's test run")
    parser.add_argument("--list", action="store_true", help="print the list and exit")
    parser.add_argument("--check", action="store_true", help="only report stale mutants")
    args = parser.parse_args(argv)
    names = [m.name for m in MUTANTS]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        parser.error(f"duplicate mutant names: {sorted(dupes)}")
    unknown = set(args.names) - set(names)
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            eq = f"  [equivalent: {m.equivalent}]" if m.equivalent else ""
            print(f"{m.name:34s} {m.file}: {m.description}{eq}")
        print(f"{len(chosen)} mutants in {len({m.file for m in chosen})} files")
        return 0
    repo = args.repo.resolve()
    if not (repo / "heavyball").is_dir():
        parser.error(f"--repo {repo} is not a heavyball checkout")
    results = []
    used: dict[str, str] = {}  # the file each mutant was applied to (its first or a moved variant)
    with tempfile.TemporaryDirectory(prefix="heavyball-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        _copy(repo, copy)
        for m in chosen:
            found = _state(copy, m)[1]
            used[m.name] = found[0] if found else m.file
            if args.check:
                state = _state(copy, m)[0]
                outcome, detail, seconds = ("STALE", state, 0.0) if state != "ok" else ("OK", "", 0.0)
            else:
                outcome, detail, seconds = run_one(copy, m, args.timeout)
            results.append((m, outcome, detail))
            print(f"{outcome:10s} {m.name:34s} {seconds:6.1f} s  {m.description}" + (f"  ({detail})" if outcome in ("STALE", "ERROR") else ""),
                  flush=True)  # fmt: skip
    count = {
        k: sum(1 for _, o, _ in results if o == k) for k in ("KILLED", "SURVIVED", "EQUIVALENT", "STALE", "ERROR", "OK")
    }
    print()
    print(f"repository: {repo}")
    if args.check:
        print(f"{len(results)} mutants: {count['OK']} apply, {count['STALE']} stale")
        return 1 if count["STALE"] else 0
    scored = count["KILLED"] + count["SURVIVED"]
    score = count["KILLED"] / scored if scored else float("nan")
    print(f"{len(results)} mutants: {count['KILLED']} killed, {count['SURVIVED']} survived, "
          f"{count['EQUIVALENT']} equivalent (survived, documented), {count['STALE']} stale, {count['ERROR']} errors")  # fmt: skip
    print(f"score: {count['KILLED']}/{scored} killed = {100 * score:.1f}% (equivalent, stale and errors not counted)")
    for label, wanted in (("survivors", "SURVIVED"), ("equivalent mutants", "EQUIVALENT")):
        rows = [(m, d) for m, o, d in results if o == wanted]
        if rows:
            print(f"\n{label}:")
            for m, _ in rows:
                print(f"  {m.name} ({used[m.name]}): {m.description}")
                if m.equivalent:
                    print(f"      equivalent because {m.equivalent}")
    marked = [m for m, o, _ in results if o == "KILLED" and m.equivalent]
    for m in marked:
        print(f"\nnote: {m.name} is documented as equivalent but was killed: its reason needs review")
    return 0 if count["SURVIVED"] == 0 and count["STALE"] == 0 and count["ERROR"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
