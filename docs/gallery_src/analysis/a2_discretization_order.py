"""
Order of the discretisation schemes
===================================

``analysis/discretization_order.py`` measures the global error of each discretisation
scheme of the heavy-ball ODE (semi-implicit Euler, implicit and exponential friction) for
decreasing time steps, and fits the order of convergence.
"""

import runpy
import tempfile
from pathlib import Path

import heavyball

script = Path(heavyball.__file__).resolve().parents[1] / "analysis" / "discretization_order.py"
main = runpy.run_path(str(script), run_name="discretization_order")["main"]

# %%
# Run it as ``python analysis/discretization_order.py`` does:

with tempfile.TemporaryDirectory() as out:
    status = main([])
print("exit status", status)
