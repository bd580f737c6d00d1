"""
Scaling limits of momentum
==========================

``analysis/scaling_limits.py`` asks which continuous model describes the iterates of
momentum methods as the learning rate goes to zero: with fixed momentum a rescaled gradient
flow, with μ = 1 − c√(lr/m) the heavy-ball ODE; and Nesterov's method against the solution
2·J₁(t)/t of its ODE.
"""

import runpy
import tempfile
from pathlib import Path

import heavyball

script = Path(heavyball.__file__).resolve().parents[1] / "analysis" / "scaling_limits.py"
main = runpy.run_path(str(script), run_name="scaling_limits")["main"]

# %%
# Run it as ``python analysis/scaling_limits.py`` does:

with tempfile.TemporaryDirectory() as out:
    status = main([])
print("exit status", status)
