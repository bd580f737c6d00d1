r"""Characteristic roots in the complex plane for every curvature of a κ = 100 valley.

Per curvature ``h`` a linear method is the recurrence ``x_{k+1} = T x_k − D x_{k−1}`` with
roots ``z² − Tz + D = 0`` (:func:`heavyball.rates.characteristic_roots`): GD ``z = 1 − γh``,
heavy ball ``z² − (1 + μ − γh)z + μ``, Nesterov ``z² − (1 + μ)(1 − γh)z + μ(1 − γh)``. At each
method's tuning for ``h ∈ [0.01, 1]``: GD's roots spread along the real axis up to
``±99/101``; Polyak's heavy ball puts *every* root on the circle ``|z| = √μ = 9/11`` (both
ends are double roots, at ``±9/11``); Nesterov's textbook tuning gives a double root at
``1 − 1/√κ = 0.9`` for ``h_min`` and ``z = 0`` for ``h_max``, its complex moduli
``√(μ(1 − γh))`` falling with ``h`` (no common circle, hence none is drawn).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..rates import characteristic_roots, optimal_parameters
from ._common import documented, make_of, tuning_text

ORDER = 80  # its place in the catalogue
CAPTION = (
    "Roots of the characteristic polynomial for 300 curvatures h log-spaced in [0.01, 1] (κ = 100) "
    "at each method's tuning: (a) gradient descent, γ = 2/(h_min + h_max), z = 1 − γh; (b) heavy ball "
    "at Polyak's (γ, μ) = (400/121, 81/121): every root lies on the dashed circle |z| = √μ = 9/11; "
    "(c) Nesterov at (1/h_max, 9/11): a double root at 0.9 for h_min and z = 0 for h_max; its complex roots have "
    "the moduli √(μ(1 − γh)), which fall with h (no common circle). The largest "
    "modulus is the rate ρ; the solid circle |z| = 1 is the stability boundary. Open and filled "
    "squares mark the roots of h_min and h_max."
)

H_MIN, H_MAX = 0.01, 1.0
METHODS = ("gd", "heavyball", "nesterov")


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Roots (real and imaginary parts, shape ``(n, 2)``) per method (``fast``: 60 curvatures)."""
    h = np.geomspace(H_MIN, H_MAX, 60 if fast else 300)
    out = {"h": h}
    for m in METHODS:
        t = optimal_parameters(H_MIN, H_MAX, m)
        z = characteristic_roots(h, lr=float(t.lr), momentum=float(t.momentum), family=m)
        out[f"{m}_lr"], out[f"{m}_momentum"], out[f"{m}_rate"] = (np.asarray(float(x)) for x in t)
        out[f"{m}_real"], out[f"{m}_imag"] = np.real(z), np.imag(z)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    titles = {"gd": ("(a)", "gradient descent"), "heavyball": ("(b)", "heavy ball (Polyak)"),
              "nesterov": ("(c)", "Nesterov")}  # fmt: skip
    with plotting.paper_style():
        fig, axes = plotting.new_figure(plotting.DOUBLE, 2.75, ncols=3, sharex=True, sharey=True)
        for ax, m in zip(axes, METHODS, strict=False):
            lr, mu, rate = float(d[f"{m}_lr"]), float(d[f"{m}_momentum"]), float(d[f"{m}_rate"])
            z = d[f"{m}_real"] + 1j * d[f"{m}_imag"]
            circles = []
            if m == "gd":
                z = z[:, :1]  # GD is first order: one root per curvature
            params = tuning_text(lr, None if m == "gd" else mu, ".3g")
            if m == "heavyball":  # the product of a complex pair is μ: every complex root has |z| = √μ
                circles = [(np.sqrt(mu), rf"$|z| = \sqrt{{\mu}} = {np.sqrt(mu):.3g}$")]
            plotting.roots(ax, z, family=m, label=rf"roots, $\rho = {rate:.3f}$", circles=circles, size=5)
            color = plotting.family_color(m)
            ax.plot(z[0].real, z[0].imag, ls="none", marker="s", ms=5, mfc="white", mec=color, mew=0.9, zorder=5,
                    label=r"$h_{\min}$")  # fmt: skip
            ax.plot(z[-1].real, z[-1].imag, ls="none", marker="s", ms=4, color=color, mec="black", mew=0.5, zorder=5,
                    label=r"$h_{\max}$")  # fmt: skip
            ax.set_xlim(-1.15, 1.15)
            ax.set_ylim(-1.15, 1.45)
            plotting.panel_label(ax, titles[m][0], f"{titles[m][1]}\n{params}")
            ax.legend(loc="upper center", ncols=2, fontsize=6.5, handletextpad=0.3, columnspacing=0.8)
            if m != "gd":
                ax.set_ylabel("")
    return fig


make = make_of(__name__)
