r"""The memory of momentum: the weight ``μ^{t−i}`` of each past gradient in the step.

The lecture's "Interpretación del momento": with ``λ = τ = 0`` and no Nesterov,
``θ_{t+1} = θ_t − γ Σ_{i=1..t} μ^{t−i} g_i``, so a gradient ``t − i`` steps old still carries
the weight ``μ^{t−i}`` and the weights sum to ``(1 − μᵗ)/(1 − μ) → 1/(1 − μ)``, the effective
memory (2, 10 and 100 steps for μ = 0.5, 0.9, 0.99). With dampening τ, torch's buffer is
``b_t = μ^{t−1} g₁ + (1 − τ) Σ_{k=2..t} μ^{t−k} g_k``: new gradients enter with weight
``1 − τ``, except the very first, which torch stores undamped.

The weights are *measured*, not typed in: :class:`heavyball.SGD` (torch's semantics) is fed
unit impulses — at step ``k`` the gradient is the ``k``-th basis vector — so coordinate ``i`` of
``θ_{t−1} − θ_t = γ b_t`` is exactly the weight of ``g_i`` in step ``t`` (with ``γ = 1``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .. import plotting
from ..optimizers import SGD
from ._common import documented, make_of

ORDER = 30  # its place in the catalogue
CAPTION = (
    "Momentum as memory. (a) The weight of a gradient i steps old in torch's SGD step "
    "θ ← θ − γb, b ← μb + g (γ = 1, τ = 0), measured by feeding unit gradient impulses to SGD: "
    "μ^(t−i), against the age on a logarithmic axis; the dotted lines mark the effective memory "
    "1/(1 − μ) = 2, 10 and 100 steps (the sum of all the weights). There (dots) the weight has fallen to "
    "μ^(1/(1 − μ)) = 0.25, 0.35 and 0.37, which tends to 1/e (dotted horizontal line) as μ → 1: the 1/e rule "
    "of thumb holds for momenta near 1, not for μ = 0.5. (b) Dampening τ scales every new "
    "gradient by 1 − τ (μ = 0.9, the weights of g₁ … g₂₀ in b₂₀); torch stores the first gradient "
    "undamped (b₁ = g₁), so g₁ keeps the weight μ¹⁹ whatever τ."
)

MUS = (0.5, 0.9, 0.99)
TAUS = (0.0, 0.5, 0.9)
DAMP_MU = 0.9
T_MEMORY = 400
T_DAMP = 20


def impulse_weights(momentum: ArrayLike, dampening: ArrayLike, t: int) -> np.ndarray:
    """Weights of ``g_1 … g_t`` in the step ``θ_{t−1} − θ_t`` of ``SGD(lr=1, momentum, dampening)``.

    Parameters
    ----------
    momentum, dampening : array_like
        Broadcast to a batch ``(B,)``.
    t : int
        The step whose weights are measured.

    Returns
    -------
    ndarray, shape (B, t)
        Column ``i − 1`` is the weight of ``g_i`` (measured with unit impulses ``g_k = e_k``).
    """
    momentum = np.atleast_1d(np.asarray(momentum, dtype=np.float64))
    dampening = np.atleast_1d(np.asarray(dampening, dtype=np.float64))
    batch = np.broadcast_shapes(momentum.shape, dampening.shape)
    opt = SGD(lr=1.0, momentum=np.broadcast_to(momentum, batch)[:, None],
              dampening=np.broadcast_to(dampening, batch)[:, None])  # fmt: skip
    theta = np.zeros(batch + (t,))
    state = opt.init(theta)
    eye = np.eye(t)
    before = theta
    for k in range(t):  # steps 1 … t feed g_k = e_k; keep θ_{t−1} to measure the last step
        before = theta
        theta, state = opt.step(theta, np.broadcast_to(eye[k], theta.shape), state)
    return before - theta


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Measured weights (``fast``: a 100-step memory window instead of 400)."""
    t = 100 if fast else T_MEMORY
    mu = np.asarray(MUS)
    w = impulse_weights(mu, 0.0, t)[:, ::-1]  # reversed: column j is the gradient j steps old
    tau = np.asarray(TAUS)
    damp = impulse_weights(DAMP_MU, tau, T_DAMP)
    return {
        "mu": mu,
        "age": np.arange(t),
        "weights": w,
        "memory": 1.0 / (1.0 - mu),
        "weight_sum": w.sum(axis=1),
        "weight_at_memory": mu ** (1.0 / (1.0 - mu)),  # the weight at age 1/(1 − μ): → 1/e as μ → 1
        "tau": tau,
        "damp_mu": np.asarray(DAMP_MU),
        "damp_index": np.arange(1, T_DAMP + 1),
        "damp_weights": damp,
    }


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    color = plotting.FAMILY_COLORS["heavyball"]
    styles = ["-", (0, (4, 1.5)), (0, (1, 1))]
    with plotting.paper_style():
        fig, (ax_a, ax_b) = plotting.new_figure(plotting.DOUBLE, 2.5, ncols=2, width_ratios=[1.25, 1.0])
        age = d["age"]
        for i, mu in enumerate(d["mu"]):
            memory = float(d["memory"][i])
            ax_a.plot(age, d["weights"][i], color=color, ls=styles[i])
            at = np.log(0.62) / np.log(mu)  # label each curve where its weight is 0.62
            ax_a.text(at * 1.25 + 0.15, 0.62, rf"$\mu = {mu:g}$", color=color, fontsize=7, ha="left", va="bottom")
            ax_a.axvline(memory, color="0.45", lw=0.7, ls=(0, (1, 2)))
            ax_a.annotate(rf"$1/(1-\mu) = {memory:.0f}$", (memory, 1.03), ha="center", va="bottom", fontsize=7,
                          color="0.3", annotation_clip=False)  # fmt: skip
            at_memory = float(d["weight_at_memory"][i])
            ax_a.plot([memory], [at_memory], "o", color=color, ms=3.5, mec="white", mew=0.6, zorder=4)
            ax_a.annotate(f"{at_memory:.2f}", (memory, at_memory), xytext=(4, 2), textcoords="offset points",
                          fontsize=7, color=color, ha="left", va="bottom")  # fmt: skip
        ax_a.axhline(np.exp(-1.0), color="0.45", lw=0.5, ls=(0, (1, 2)))
        ax_a.annotate("$1/e$", (age[-1], np.exp(-1.0)), ha="right", va="bottom", fontsize=7, color="0.3")
        ax_a.set_xscale("symlog", linthresh=1.0, linscale=0.4)
        ax_a.set_ylim(0.0, 1.02)
        ax_a.set_xlim(0, age[-1])
        ax_a.set_xticks([0, 1, 10, 100], ["0", "1", "10", "100"])
        ax_a.set_xlabel("age of the gradient, $t - i$ (steps)")
        ax_a.set_ylabel(r"weight of $g_i$ in the step, $\mu^{t-i}$")
        plotting.panel_label(ax_a, "(a)", "memory", pad=12)  # above the 1/(1 − μ) labels

        idx = d["damp_index"]
        width = 0.27
        for j, tau in enumerate(d["tau"]):
            ax_b.bar(idx + (j - 1) * width, d["damp_weights"][j], width=width, color=color,
                     alpha=(1.0, 0.6, 0.3)[j], label=rf"$\tau = {tau:g}$", linewidth=0)  # fmt: skip
        ax_b.set_xlabel(r"gradient index $i$ (step $t = 20$)")
        ax_b.set_ylabel(rf"weight of $g_i$ in $b_{{20}}$ ($\mu = {float(d['damp_mu']):g}$)")
        ax_b.set_xticks([1, 5, 10, 15, 20])
        ax_b.set_xlim(0.4, idx[-1] + 0.6)
        ax_b.legend(loc="upper left", title="dampening")
        ax_b.annotate("first gradient:\nundamped, $\\mu^{19}$", (1, float(d["damp_weights"][0, 0])),
                      xytext=(3.2, 0.55), fontsize=7, arrowprops={"arrowstyle": "->", "lw": 0.6})  # fmt: skip
        plotting.panel_label(ax_b, "(b)", "dampening", pad=12)
    return fig


make = make_of(__name__)
