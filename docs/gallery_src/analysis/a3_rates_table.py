"""
Predicted and measured rates
============================

``analysis/rates_table.py`` tunes gradient descent, heavy ball and Nesterov on valleys
of condition number κ = 10 … 10⁴, and compares the rate predicted from the eigenvalues
with the rate measured on the iterates.
"""

import runpy
import tempfile
from pathlib import Path

import heavyball

script = Path(heavyball.__file__).resolve().parents[1] / "analysis" / "rates_table.py"
main = runpy.run_path(str(script), run_name="rates_table")["main"]

# %%
# Run it as ``python analysis/rates_table.py`` does:

with tempfile.TemporaryDirectory() as out:
    status = main([])
print("exit status", status)
