"""One module per derivation; the registry (:data:`heavyball.symbolic.DERIVATIONS`) is built
from the modules found here, so adding a module adds the derivation.

A derivation module ``heavyball/symbolic/derivations/NAME.py`` defines

- ``ORDER`` -- an ``int``, its place in the catalogue (ascending; ties broken by name);
- ``NAME(**symbols) -> Derivation`` -- a function named like the module, decorated with
  ``functools.cache``, taking the symbols it uses as optional keyword arguments (so that
  another derivation can reuse it with its own symbols; ``given``/``given_positive`` of
  :mod:`heavyball.symbolic.algebra` turn them into symbols) and returning a
  :class:`~heavyball.symbolic.claims.Derivation` whose ``name`` is ``NAME``.

The :class:`~heavyball.symbolic.claims.Derivation` it returns must tie every entry of its
``result`` to something checked: each entry (for an ``Eq`` with a label on the left, its
right-hand side; otherwise the whole entry) is a side of one of its ``claims``, or it has a
numeric twin in ``twins`` (a function of the numeric library that computes the same thing,
compared by :meth:`~heavyball.symbolic.claims.Derivation.check`; the key needs an entry in
``signatures``). The test suite walks the registry and enforces this, checks every
derivation, renders it to LaTeX and compiles it, so nothing else needs registering.
Modules whose name starts with ``_`` are not derivations (shared helpers may live there).
"""
