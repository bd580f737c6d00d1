"""Tests of ``heavyball.symbolic``: every derivation checks, wrong claims are caught, the
LaTeX is well formed, the analysis script writes the .tex file, and the derived formulas
agree with independent numerics (numpy iteration of torch's update rules, scipy's ODE
solver, closed forms typed here, and the numbers quoted in the papers cited)."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from _latex import MAX_OVERFULL_PT, PDFLATEX, assert_compiles_and_fits, compile_latex, needs_pdflatex

from heavyball import symbolic
from heavyball.symbolic import DERIVATIONS, DerivationError, latex

ROOT = Path(__file__).resolve().parents[1]

NAMES = list(DERIVATIONS)  # the registry, built from the modules of heavyball/symbolic/derivations/
EXACT_METHODS = {"identical", "cancel", "expand", "expand+cancel", "simplify"}
DERIVATION_DIR = ROOT / "heavyball" / "symbolic" / "derivations"


# --------------------------------------------------------------------------------------
# the registry and the checks
# --------------------------------------------------------------------------------------
def test_registry_is_built_from_the_modules_in_catalogue_order():
    """One derivation per module file (none forgotten, none extra), ordered by ``ORDER``; each
    is ``heavyball.symbolic.NAME`` and carries its module's name."""
    files = sorted(p.stem for p in DERIVATION_DIR.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(DERIVATIONS) == files and len(files) >= 13
    modules = [importlib.import_module(f"heavyball.symbolic.derivations.{name}") for name in DERIVATIONS]
    orders = [(m.ORDER, name) for m, name in zip(modules, DERIVATIONS, strict=True)]
    assert orders == sorted(orders)
    assert list(DERIVATIONS)[:3] == ["discretization", "consistency", "momentum_sum"]
    for name, module in zip(DERIVATIONS, modules, strict=True):
        assert getattr(symbolic, name) is getattr(module, name) and name in symbolic.__all__
        assert DERIVATIONS[name]().name == name


@pytest.mark.parametrize("name", NAMES)
def test_every_derivation_checks(name):
    d = DERIVATIONS[name]()
    assert isinstance(d, symbolic.Derivation) and d.name == name
    assert d is DERIVATIONS[name]()  # cached factory
    report = d.check()
    assert report.success and report.status == "verified" and not report.failed
    assert [c.name for c in report.claims] == [c.name for c in d.claims]
    for c in report.claims:
        assert c.held and c.exact and c.method in EXACT_METHODS
        assert c.points >= 20
        assert c.max_rel_error <= 1e-12  # the documented tolerance
    assert d.findings and d.steps and d.result and d.assumptions


def test_factory_forwards_attributes():
    factory = DERIVATIONS["weight_decay"]
    assert factory.title == factory().title
    assert factory.check().success


def test_check_is_reproducible_and_validates_arguments():
    d = DERIVATIONS["discretization"]()
    a, b = d.check(seed=3), d.check(seed=3)
    assert [c.max_rel_error for c in a.claims] == [c.max_rel_error for c in b.claims]
    with pytest.raises(ValueError, match="`n`"):
        d.check(n=19)
    with pytest.raises(ValueError, match="`seed`"):
        d.check(seed=-1)
    with pytest.raises(TypeError, match="`strict`"):
        d.check(strict="no")


# --------------------------------------------------------------------------------------
# mutated claims are caught, and the error names the claim
# --------------------------------------------------------------------------------------
def _raises_naming(d, claim_name):
    with pytest.raises(DerivationError, match=f"`{claim_name}`") as info:
        d.check()
    assert isinstance(info.value, ValueError)
    assert info.value.claim == claim_name and info.value.derivation == d.name
    assert claim_name in info.value.failed
    return info.value


def test_eta_dt_squared_in_the_velocity_form_is_caught():
    d = DERIVATIONS["discretization"]()
    m, dt = d.symbols["m"], d.symbols["dt"]
    err = _raises_naming(d.with_claim("eta", dt**2 / m), "eta")
    assert err.failed == ("eta",)  # nothing else was touched


def test_missing_one_minus_tau_is_caught():
    d = DERIVATIONS["dampening"]()
    mu, g = d.symbols["mu"], [d.symbols[f"g{k}"] for k in range(1, 5)]
    no_dampening = mu**3 * g[0] + sum(mu ** (4 - k) * g[k - 1] for k in range(2, 5))
    _raises_naming(d.with_claim("closed_form_t4", no_dampening), "closed_form_t4")
    # the lecture's closed form stated as torch's buffer is also caught
    tau, t, G, k = d.symbols["tau"], d.symbols["t"], d.symbols["g"], sp.Symbol("k", integer=True, positive=True)
    lecture = mu**t * G(1) + (1 - tau) * sp.Sum(mu ** (t - k) * G(k), (k, 1, t))
    _raises_naming(d.with_claim("lecture_minus_torch", lecture - lecture), "lecture_minus_torch")


def test_goh_two_sqrt_mu_is_caught():
    d = DERIVATIONS["characteristic_polynomials"]()
    mu = d.symbols["mu"]
    _raises_naming(d.with_claim("modulus", 2 * sp.sqrt(mu)), "modulus")
    _raises_naming(d.with_claim("modulus_of_root", 2 * sp.sqrt(mu)), "modulus_of_root")


def test_wrong_modified_equation_coefficient_is_caught():
    d = DERIVATIONS["modified_equation"]()
    mu = d.symbols["mu"]
    # the gradient-descent value (no momentum correction) in place of heavy ball's
    _raises_naming(d.with_claim("C_heavyball", 1 / (2 * (1 - mu) ** 2)), "C_heavyball")
    _raises_naming(d.with_claim("C_nesterov", (1 + mu) / (2 * (1 - mu) ** 3)), "C_nesterov")


def test_wrong_gradient_argument_is_caught_numerically_and_exactly():
    # a general (undefined) gradient: the mutation hides inside nested function calls
    d = DERIVATIONS["sgd_equals_heavyball"]()
    G = d.symbols["g"]
    shifted = d.claim("theta_3").rhs.replace(G, lambda a: G(a + sp.Rational(1, 1000)))
    report = d.with_claim("theta_3", shifted).check(strict=False)
    bad = {c.name: c for c in report.claims}["theta_3"]
    assert not report.success and report.failed == ("theta_3",)
    assert not bad.exact and bad.max_rel_error > 1e-6


def test_mutation_through_dataclasses_replace():
    d = DERIVATIONS["optimal_parameters"]()
    wrong = dataclasses.replace(
        d.claim("polyak_example"), rhs=sp.Tuple(sp.Rational(400, 121), sp.Rational(81, 121), sp.Rational(9, 10))
    )
    mutated = dataclasses.replace(d, claims=tuple(wrong if c.name == "polyak_example" else c for c in d.claims))
    _raises_naming(mutated, "polyak_example")


def test_several_failures_are_all_listed():
    d = DERIVATIONS["discretization"]()
    m, c, dt = d.symbols["m"], d.symbols["c"], d.symbols["dt"]
    mutated = d.with_claim("eta", dt**2 / m).with_claim("mu", 1 - c * dt)
    report = mutated.check(strict=False)
    assert report.failed == ("mu", "eta") and report.status == "failed" and not report.success
    err = DerivationError.from_report(report)
    assert err.claim == "mu" and "`eta`" in str(err)


def _perturbed(value):
    """``value`` moved off by a relative 1e-3 (plus 1/997, so that a zero moves too)."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(_perturbed)
    if isinstance(value, (sp.Tuple, tuple)):
        return sp.Tuple(*[_perturbed(v) for v in value])
    return value * sp.Rational(1001, 1000) + sp.Rational(1, 997)


@pytest.mark.parametrize("name", NAMES)
def test_every_mutated_claim_is_caught(name):
    """Each claim of each derivation, with its right-hand side perturbed by 1e-3, fails the check
    and the error names it (the claim is checked alone, to keep this fast)."""
    d = DERIVATIONS[name]()
    for c in d.claims:
        mutated = dataclasses.replace(d, claims=(dataclasses.replace(c, rhs=_perturbed(c.rhs)),), twins={})
        report = mutated.check(strict=False)
        assert report.failed == (c.name,), (name, c.name, report.message)


@pytest.mark.parametrize("name", NAMES)
def test_every_result_is_tied_to_a_claim_or_a_numeric_twin(name):
    """No entry of ``result`` is typed by hand and left unchecked: each is a side of a claim
    (or, for an equation, its sides are claim sides and labels) or has a numeric twin."""
    d = DERIVATIONS[name]()
    ties = d.ties()
    assert list(ties) == list(d.result)
    untied = [key for key, tie in ties.items() if tie is None]
    assert not untied, f"{name}: results checked by nothing: {untied}"
    for key, twin in d.twins.items():
        assert key in d.result and key in d.signatures, key
        assert twin.function.startswith("heavyball.") and not twin.function.startswith("heavyball.symbolic")
        assert callable(symbolic.twins.resolve(twin.function))
        assert len(twin.domain) == len(d.signatures[key])


@pytest.mark.parametrize("name", [n for n in NAMES if DERIVATIONS[n]().twins])
def test_every_perturbed_twin_result_is_caught(name):
    """A result with a numeric twin, perturbed by 1e-3, disagrees with the library function."""
    d = DERIVATIONS[name]()
    for key in d.twins:
        value = d.result[key]
        if isinstance(value, sp.logic.boolalg.Boolean):
            continue  # the stability region has its own test below
        result = {**d.result, key: _perturbed(value)}
        report = dataclasses.replace(d, result=result, claims=()).check(strict=False)
        assert [r.name.split(" ")[0] for r in report.twins if not r.held] == [key], (name, key)


def test_stability_region_with_one_plus_mu_is_caught():
    """Jury's heavy-ball region written ``γh < 1 + μ`` instead of ``γh < 2(1 + μ)`` fails
    against ``rates.is_stable`` (and the error names the twin)."""
    d = DERIVATIONS["characteristic_polynomials"]()
    h, lr, mu = d.symbols["h"], d.symbols["lr"], d.symbols["mu"]
    wrong = sp.And(sp.Abs(mu) < 1, lr * h > 0, lr * h < 1 + mu)
    mutated = dataclasses.replace(d, result={**d.result, "stability_heavyball": wrong})
    with pytest.raises(DerivationError, match="stability_heavyball") as info:
        mutated.check()
    assert info.value.failed == ("stability_heavyball ~ heavyball.rates.is_stable",)
    # and an untied result is reported by `ties` (here: a new entry typed by hand)
    typed = dataclasses.replace(d, result={**d.result, "typed_by_hand": 2 * (1 + mu)})
    assert typed.ties()["typed_by_hand"] is None


def test_claim_builder_validates():
    x, y = sp.symbols("x y", positive=True)
    with pytest.raises(ValueError, match="free symbols y"):
        symbolic.claim("c", x + y, y + x, {x: (0.1, 1.0)})
    with pytest.raises(ValueError, match="empty range"):
        symbolic.claim("c", x, x, {x: (1.0, 1.0)})
    with pytest.raises(ValueError, match="`name`"):
        DERIVATIONS["discretization"]().claim("no such claim")


# --------------------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------------------
def _balanced(text: str) -> bool:
    depth = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


@pytest.mark.parametrize("name", NAMES)
def test_latex_block_is_well_formed(name):
    d = DERIVATIONS[name]()
    block = d.latex()
    assert block.isascii() and _balanced(block)
    assert block.count(r"\section{") == 1 and block.count("$") % 2 == 0
    assert block.count(r"\begin{dmath*}") == block.count(r"\end{dmath*}") >= 1
    for key, value in d.result.items():
        assert sp.latex(value)  # sympy can print every result
        escaped = key.replace("_", "\\_")
        assert rf"\texttt{{{escaped}}}" in block
        if not isinstance(value, (sp.Tuple, sp.MatrixBase)):
            assert latex.tex_expr(value) in block, key


def _texts(d):
    return (d.title, *d.findings, *d.assumptions, *(label for label, _ in d.steps))


def test_texts_are_mathematics_not_escaped_ascii():
    """Titles, assumptions, findings and step labels render their mathematics in math mode: no
    escaped underscore (a subscript outside math), no ``sqrt`` or ASCII ``<-`` in the prose, no
    mention of tools or of a verdict prefix; every character has a TeX form (else ValueError)."""
    for factory in DERIVATIONS.values():
        d = factory()
        for text in _texts(d):
            tex = latex.tex_text(text)
            assert tex.isascii(), text
            prose = tex.split("$")[::2]
            assert not any(r"\_" in p or "sqrt" in p or "<-" in p or "^" in p for p in prose), text
            assert "''" not in "".join(prose) or "'" in text, text
            assert "CONFIRMED" not in text and "tool" not in text, text
            assert latex.plain_text(text).count("$") == 0


def test_text_conversion_examples():
    """Independent expectations, typed here, for the conversions a reader sees."""
    assert latex.tex_text("$μ = 1 − cΔt/m$") == r"$\mu = 1 - c\Delta t/m$"
    assert latex.tex_text("$c = 2√(mh)$") == r"$c = 2\sqrt{mh}$"
    assert latex.tex_text("$θ'' + v_{k+1}$") == r"$\theta'' + v_{k+1}$"
    assert latex.tex_text("$(1 − μ^t)/(1 − μ)$, $√max(a, 0)$") == r"$(1 - \mu^t)/(1 - \mu)$, $\sqrt{\max(a, 0)}$"
    assert latex.tex_text("a_b & 100%") == r"a\_b \& 100\%"
    m, c, dt = sp.symbols("m c dt", positive=True)
    assert latex.tex_expr(1 - c * dt / m) == r"1 - \frac{c \Delta t}{m}"  # a person's order, not sympy's
    mu, z, g = sp.symbols("mu z g")
    assert latex.tex_expr(sp.collect(sp.expand(z**2 - (1 + mu - g) * z + mu), z)).startswith("z^{2}")
    assert latex.tex_expr(mu - 1) == r"\mu - 1"
    with pytest.raises(ValueError, match="dollar"):
        latex.tex_text("unbalanced $x")


@needs_pdflatex
def test_latex_document_compiles_and_fits(tmp_path):
    """``latex_document()`` compiles with no error and no overfull box over 10 pt."""
    doc = symbolic.latex_document()
    assert doc.isascii() and _balanced(doc) and doc.count(r"\section{") == len(NAMES)
    result = compile_latex(doc, tmp_path)
    assert result.returncode == 0 and not result.errors, result.errors
    assert result.worst_overfull <= MAX_OVERFULL_PT, result.overfull


@needs_pdflatex
def test_derive_latex_is_a_clean_fragment_that_compiles(tmp_path):
    """``heavyball derive --latex`` prints LaTeX alone on stdout (the PASS lines go to stderr);
    the fragment names its packages and compiles in a plain article, fitting the page."""
    run = subprocess.run(
        [sys.executable, "-m", "heavyball", "derive", "--latex"], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "PASS" not in run.stdout and run.stdout.lstrip().startswith("% heavyball derivations")
    assert run.stderr.count("PASS ") == len(NAMES) and f"{len(NAMES)} of {len(NAMES)} derivations pass" in run.stderr
    assert_compiles_and_fits(run.stdout, tmp_path)


def test_analysis_script_writes_the_tex_file(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("derivations_script", ROOT / "analysis" / "derivations.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "all.tex"
    assert script.main([str(out)]) == 0
    text = out.read_text()
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    for name in NAMES:
        assert rf"\texttt{{{name}}}" in text.replace("\\_", "_")
    printed = capsys.readouterr().out
    assert "all derivations built and checked in" in printed and "C(μ) = (1 + μ)/(2(1 − μ)³)" in printed
    assert "CONFIRMED" not in printed and "$" not in printed
    assert not list(tmp_path.glob(".*.tmp*"))  # atomic write left nothing behind
    if PDFLATEX is not None:  # the written file compiles and fits too
        result = compile_latex(text, tmp_path, "all")
        assert result.returncode == 0 and not result.errors, result.errors
        assert result.worst_overfull <= MAX_OVERFULL_PT, result.overfull


# --------------------------------------------------------------------------------------
# numeric twins against independent numbers and computations
# --------------------------------------------------------------------------------------
def test_numeric_twins_discretization(rng):
    m, c, dt = rng.uniform(0.5, 3, 5), rng.uniform(0.1, 2, 5), rng.uniform(0.01, 0.3, 5)
    np.testing.assert_allclose(symbolic.numeric("discretization", "mu")(m, c, dt), 1 - c * dt / m, rtol=1e-14)
    np.testing.assert_allclose(symbolic.numeric("discretization", "eta")(m, c, dt), dt / m, rtol=1e-14)
    np.testing.assert_allclose(symbolic.numeric("discretization", "lr")(m, c, dt), dt**2 / m, rtol=1e-14)
    mu, eta = 1 - c * dt / m, dt / m
    np.testing.assert_allclose(symbolic.numeric("discretization", "m_from_velocity")(mu, eta, dt), m, rtol=1e-12)
    np.testing.assert_allclose(symbolic.numeric("discretization", "c_from_velocity")(mu, eta, dt), c, rtol=1e-12)
    np.testing.assert_allclose(symbolic.numeric("discretization", "m_from_torch")(dt**2 / m, mu, dt), m, rtol=1e-12)
    np.testing.assert_allclose(symbolic.numeric("discretization", "c_from_torch")(dt**2 / m, mu, dt), c, rtol=1e-12)
    with pytest.raises(ValueError, match="`key`"):
        symbolic.numeric("discretization", "steps")
    with pytest.raises(ValueError, match="`name`"):
        symbolic.numeric("no such derivation", "mu")


def test_semi_implicit_iteration_matches_torch_lr(rng):
    """Iterate the physical semi-implicit scheme and torch's SGD form (numpy) with the derived
    map lr = Δt²/m, momentum = 1 − cΔt/m: the same θ_k (to float64 rounding)."""
    m, c, dt, h = 1.3, 0.7, 0.05, 2.0
    lr = symbolic.numeric("discretization", "lr")(m, c, dt)
    mom = symbolic.numeric("discretization", "momentum")(m, c, dt)
    theta_p, v = 1.0, 0.0
    theta_t, b = 1.0, 0.0
    for _ in range(200):
        v = v + dt * (-h * theta_p - c * v) / m
        theta_p = theta_p + dt * v
        b = mom * b + h * theta_t
        theta_t = theta_t - lr * b
        assert theta_t == pytest.approx(theta_p, rel=1e-10, abs=1e-13)  # 200 steps of rounding


def test_numeric_twins_rates_against_literature():
    # the literature's values: h_min = 0.01, h_max = 1 -> 400/121, 81/121, 9/11; GD 99/101; Nesterov 0.9
    f = lambda key: float(symbolic.numeric("optimal_parameters", key)(0.01, 1.0))  # noqa: E731
    assert f("polyak_lr") == pytest.approx(400 / 121, rel=1e-13)
    assert f("polyak_momentum") == pytest.approx(81 / 121, rel=1e-13)
    assert f("polyak_rate") == pytest.approx(9 / 11, rel=1e-13)
    assert f("gd_lr") == pytest.approx(2 / 1.01, rel=1e-13)
    assert f("gd_rate") == pytest.approx(99 / 101, rel=1e-13)
    assert f("nesterov_lr") == pytest.approx(1.0, rel=1e-13)
    assert f("nesterov_momentum") == pytest.approx(9 / 11, rel=1e-13)
    assert f("nesterov_rate") == pytest.approx(0.9, rel=1e-13)


def test_characteristic_polynomials_against_numpy_eigenvalues(rng):
    """Roots of the derived polynomials = eigenvalues of the 2x2 step matrices built here."""
    for _ in range(10):
        h, lr, mu = rng.uniform(0.1, 3), rng.uniform(0.01, 1), rng.uniform(0.05, 0.95)
        hb = np.array([[1 - lr * h, -lr * mu], [h, mu]])  # (θ, b) -> (θ', b') for b' = μb + hθ, θ' = θ − lr b'
        nest = np.array([[1 - lr * h * (1 + mu), -lr * mu**2], [h, mu]])
        for key, M in (("heavyball", hb), ("nesterov", nest)):
            coeffs = [symbolic.numeric("characteristic_polynomials", key)(z, h, lr, mu) for z in (0.0, 1.0, -1.0)]
            # monic quadratic from its values at 0, 1, −1
            c0 = coeffs[0]
            c1 = (coeffs[1] - coeffs[2]) / 2
            np.testing.assert_allclose(
                np.sort_complex(np.roots([1, c1, c0])), np.sort_complex(np.linalg.eigvals(M)), rtol=1e-10, atol=1e-12
            )
        lam = np.linalg.eigvals(hb)
        if np.iscomplexobj(lam) and abs(lam[0].imag) > 1e-9:
            assert abs(lam[0]) == pytest.approx(
                symbolic.numeric("characteristic_polynomials", "modulus_complex")(h, lr, mu), rel=1e-12
            )


def test_continuous_rate_against_closed_form_roots(rng):
    m, c, h = rng.uniform(0.2, 3, 50), rng.uniform(0.05, 4, 50), rng.uniform(0.05, 5, 50)
    roots = np.array([np.roots([mi, ci, hi]) for mi, ci, hi in zip(m, c, h, strict=False)])
    expected = -roots.real.max(axis=1)  # decay rate of the slowest mode
    with np.errstate(all="raise"):
        got = symbolic.numeric("continuous_regimes", "rate")(m, c, h)
    np.testing.assert_allclose(got, expected, rtol=1e-9)  # np.roots is a companion eigensolver
    assert symbolic.numeric("continuous_regimes", "critical_c")(2.0, 8.0) == pytest.approx(8.0, rel=1e-15)


def test_rates_module_matches_its_symbolic_twins(rng):
    """The numeric ``rates`` module (if present) against the derived formulas, via lambdify."""
    rates = pytest.importorskip("heavyball.rates")
    h_min, h_max = rng.uniform(0.01, 1.0, 8), rng.uniform(1.0, 50.0, 8)
    for method, prefix in (("heavyball", "polyak"), ("gd", "gd"), ("nesterov", "nesterov")):
        for a, b in zip(h_min, h_max, strict=False):
            tuned = rates.optimal_parameters(a, b, tuning=method)
            assert tuned.lr == pytest.approx(
                float(symbolic.numeric("optimal_parameters", f"{prefix}_lr")(a, b)), rel=1e-12
            )
            assert tuned.rate == pytest.approx(
                float(symbolic.numeric("optimal_parameters", f"{prefix}_rate")(a, b)), rel=1e-12
            )
            if method != "gd":
                mom = float(symbolic.numeric("optimal_parameters", f"{prefix}_momentum")(a, b))
                assert tuned.momentum == pytest.approx(mom, rel=1e-12)
    h, lr, mu = rng.uniform(0.1, 3, 20), rng.uniform(0.01, 0.5, 20), rng.uniform(0.05, 0.95, 20)
    for method in ("heavyball", "nesterov"):
        roots = np.asarray(rates.characteristic_roots(h, lr=lr, momentum=mu, family=method))
        trace = symbolic.numeric("characteristic_polynomials", f"{method}_trace")(h, lr, mu)
        det = symbolic.numeric("characteristic_polynomials", f"{method}_det")(h, lr, mu)
        np.testing.assert_allclose(roots.sum(axis=-1).real, trace, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(roots.prod(axis=-1).real, det, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        rates.critical_momentum(h, lr),
        symbolic.numeric("characteristic_polynomials", "critical_momentum")(h, lr),
        rtol=1e-12,
    )
    below = lr * h < 1  # the derivation states 1 − √(γh) for γh < 1; rates gives |1 − √(γh)|
    assert below.sum() >= 5
    np.testing.assert_allclose(
        rates.critical_rate(h[below], lr[below]),
        symbolic.numeric("characteristic_polynomials", "critical_rate")(h[below], lr[below]),
        rtol=1e-12,
    )
    m, c = rng.uniform(0.2, 3, 20), rng.uniform(0.05, 4, 20)
    c_star = rates.optimal_damping(m, h)  # the best uniform decay is the rate at the optimal damping
    best = [rates.continuous_rate(mi, ci, [hi, 10 * hi]) for mi, ci, hi in zip(m, c_star, h, strict=False)]
    # 5e-8 (a few √ε): c* sits on the critical curve, where the rate is not Lipschitz in c, so
    # the rounding of c* alone moves it by ~√ε (the same holds for the discrete repeated roots)
    np.testing.assert_allclose(best, symbolic.numeric("continuous_regimes", "optimal_rate")(m, h), rtol=5e-8)
    for mi, ci, hi in zip(m, c, h, strict=False):
        assert float(rates.continuous_rate(mi, ci, [hi])) == pytest.approx(
            float(symbolic.numeric("continuous_regimes", "rate")(mi, ci, hi)), rel=1e-12
        )
    np.testing.assert_allclose(
        rates.optimal_damping(m, h), symbolic.numeric("continuous_regimes", "optimal_c")(m, h), rtol=1e-14
    )


# --------------------------------------------------------------------------------------
# the modified equation against iterating torch's update rules
# --------------------------------------------------------------------------------------
def _torch_iterates(grad, x0, lr, mu, steps, nesterov):
    x, b, out = x0, 0.0, [x0]
    for _ in range(steps):
        g = grad(x)
        b = mu * b + g
        x = x - lr * (g + mu * b if nesterov else b)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("method", ["heavyball", "nesterov"])
def test_modified_equation_is_second_order_on_a_nonlinear_objective(method):
    """f(x) = a(x²/2 + x⁴/4) with a = 0.5, μ = 0.5 (time scale (1−μ)/a = 1): torch's iterates,
    iterated here in numpy, against the modified flow (scipy DOP853, rtol 1e-12) started at
    x0 + lr·D·f'(x0). Halving lr divides the error (max over t ≥ 1, after the initial layer)
    by ≈ 4 (order 2); against the modified flow started at x0, and against the rescaled
    gradient flow, by ≈ 2 (order 1). Measured ratios: ≈ 4.0–4.1 and 1.86–2.02."""
    from scipy.integrate import solve_ivp

    mu, a, x0, T = 0.5, 0.5, 1.0, 4.0
    C = float(symbolic.numeric("modified_equation", f"C_{method}")(mu))
    D = float(symbolic.numeric("modified_equation", f"shift_{method}")(mu))
    grad = lambda x: a * (x + x**3)  # noqa: E731
    hess = lambda x: a * (1 + 3 * x**2)  # noqa: E731
    errors = {"modified, shifted": [], "modified, unshifted": [], "gradient flow": []}
    for lr in (0.01, 0.005, 0.0025):
        steps = round(T / lr)
        xs = _torch_iterates(grad, x0, lr, mu, steps, method == "nesterov")
        t = lr * np.arange(steps + 1)
        for label, start, order in (
            ("modified, shifted", x0 + lr * D * grad(x0), 2),
            ("modified, unshifted", x0, 2),
            ("gradient flow", x0, 1),
        ):

            def rhs(_, y, lr=lr, order=order):
                return -grad(y) / (1 - mu) - (lr * C * hess(y) * grad(y) if order == 2 else 0.0)

            sol = solve_ivp(rhs, (0, T), [start], t_eval=t, rtol=1e-12, atol=1e-14, method="DOP853")
            errors[label].append(np.max(np.abs(xs - sol.y[0])[t >= 1.0]))
    ratio = lambda e: np.array(e[:-1]) / np.array(e[1:])  # noqa: E731
    # window around 4 (order 2) and 2 (order 1), wide enough for the pre-asymptotic ratios above
    assert np.all((ratio(errors["modified, shifted"]) > 3.6) & (ratio(errors["modified, shifted"]) < 4.5)), errors
    for label in ("modified, unshifted", "gradient flow"):
        assert np.all((ratio(errors[label]) > 1.6) & (ratio(errors[label]) < 2.4)), (label, errors[label])
    assert errors["modified, shifted"][-1] < 0.05 * errors["modified, unshifted"][-1]


def test_derived_c_matches_slow_root_numerically():
    """The slow eigenvalue of the 2x2 heavy-ball matrix, computed by numpy, against
    exp(lr·s) with s = −h/(1−μ) − lr·C·h²: the mismatch is O(lr³)."""
    mu, h = 0.5, 1.0  # the expansion parameter lr·h/(1−μ)² must be small
    C = float(symbolic.numeric("modified_equation", "C_heavyball")(mu))
    gaps = []
    for lr in (4e-3, 2e-3, 1e-3):
        z = np.linalg.eigvals(np.array([[1 - lr * h, -lr * mu], [h, mu]]))
        slow = z[np.argmax(z.real)].real
        gaps.append(abs(slow - np.exp(lr * (-h / (1 - mu) - lr * C * h**2))))
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    assert np.all((ratios > 7.0) & (ratios < 9.0)), gaps  # O(lr^3): halving lr divides by ~8


# --------------------------------------------------------------------------------------
# documentation
# --------------------------------------------------------------------------------------
def test_docstring_examples_run():
    attempted = 0
    for info in pkgutil.walk_packages(symbolic.__path__, prefix="heavyball.symbolic."):
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, info.name
        attempted += result.attempted
    result = doctest.testmod(symbolic, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert attempted + result.attempted > 10


def test_only_symbolic_imports_sympy_at_module_level():
    package = ROOT / "heavyball" / "symbolic"
    for path in (ROOT / "heavyball").rglob("*.py"):
        if package in path.parents:
            continue
        top = [line for line in path.read_text().splitlines() if line.startswith(("import sympy", "from sympy"))]
        assert not top, f"{path} imports sympy at module level"


def test_wrong_noisy_stationary_variances_are_caught():
    d = DERIVATIONS["noisy_stationary"]()
    g, mu, h, s = (d.symbols[k] for k in ("gamma", "mu", "h", "sigma"))
    # momentum forgotten in the temperature (plain SGD's γσ²/2) and in the variance's numerator
    _raises_naming(d.with_claim("temperature", g * s**2 / 2), "temperature")
    _raises_naming(d.with_claim("heavy_ball_variance", g * s**2 / (h * (1 - mu) * (2 * (1 + mu) - g * h))),
                   "heavy_ball_variance")  # fmt: skip
    _raises_naming(d.with_claim("small_lr_limit", g * s**2 / (h * (1 - mu))), "small_lr_limit")


def test_wrong_langevin_laws_and_orders_are_caught():
    d = DERIVATIONS["langevin_stationary"]()
    m, c, h, s, dt = (d.symbols[k] for k in ("m", "c", "h", "sigma", "dt"))
    _raises_naming(d.with_claim("var_theta", s**2 / (c * h)), "var_theta")  # the factor 2
    _raises_naming(d.with_claim("var_v", s**2 / (2 * c)), "var_v")  # the mass
    # heavy ball agreeing at first order, Nesterov at second: both wrong
    _raises_naming(d.with_claim("heavy_ball_agreement_order", 1 + h * dt / (4 * m)), "heavy_ball_agreement_order")
    _raises_naming(d.with_claim("nesterov_agreement_order", sp.Integer(1)), "nesterov_agreement_order")
