"""The registry of derivations, built from the modules of :mod:`heavyball.symbolic.derivations`,
and what works on all of it: :func:`check_all`, :func:`numeric`, :func:`latex_document`."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._validation import as_choice, describe
from . import derivations as _package
from .claims import MIN_POINTS, CheckReport, Derivation
from .latex import document
from .twins import lambdify_result

__all__ = ["DERIVATIONS", "DerivationFactory", "check_all", "latex_document", "numeric"]


class DerivationFactory:
    """A zero-argument, cached factory of one :class:`Derivation`.

    Calling it builds (once) and returns the derivation; attribute access is forwarded to
    the built derivation, so ``factory.check()`` is ``factory().check()``.
    """

    def __init__(self, name: str, build: Callable[[], Derivation]) -> None:
        self.name = name
        self._build = build

    def __call__(self) -> Derivation:
        return self._build()

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._build(), attr)

    def __repr__(self) -> str:
        return f"<DerivationFactory {self.name!r}>"


def _discover() -> dict[str, Callable[..., Derivation]]:
    """name -> the function of each derivation module, in catalogue order (``ORDER``)."""
    found = []
    for info in pkgutil.iter_modules(_package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_package.__name__}.{info.name}")
        build = getattr(module, info.name, None)
        order = getattr(module, "ORDER", None)
        if not callable(build) or not isinstance(order, int):
            raise ImportError(
                f"derivation module {module.__name__} must define a function `{info.name}` and an int `ORDER`"
            )
        found.append((order, info.name, build))
    return {name: build for _, name, build in sorted(found, key=lambda item: (item[0], item[1]))}


#: name -> the derivation's function (keyword arguments: the symbols to use)
FUNCTIONS: Mapping[str, Callable[..., Derivation]] = _discover()
#: name -> :class:`DerivationFactory`, in catalogue order
DERIVATIONS: Mapping[str, DerivationFactory] = {name: DerivationFactory(name, fn) for name, fn in FUNCTIONS.items()}


@functools.cache
def _lambdified(name: str, key: str, modules: str) -> Callable[..., Any]:
    return lambdify_result(DERIVATIONS[name](), key, modules)


def numeric(name: str, key: str, *, modules: str = "numpy", derivation: Derivation | None = None) -> Callable[..., Any]:
    """The derived ``result[key]`` of derivation ``name`` as a numeric function.

    Parameters
    ----------
    name : str
        A key of ``DERIVATIONS``.
    key : str
        A result with a numeric signature (``Derivation.signatures``; the table in
        :mod:`heavyball.symbolic`).
    modules : {"numpy", "mpmath", "math"}
        Lambdify backend.
    derivation : Derivation, optional
        Use this derivation (e.g. built with other symbols) instead of the registered one.

    Returns
    -------
    callable
        ``f(*args)`` with the arguments in the documented order; numpy broadcasting.

    Examples
    --------
    >>> round(float(numeric("optimal_parameters", "polyak_rate")(0.01, 1.0)), 12)  # (h_min, h_max) -> 9/11
    0.818181818182
    """
    name = as_choice("name", name, DERIVATIONS)
    modules = as_choice("modules", modules, ("numpy", "mpmath", "math"))
    if not isinstance(key, str):
        raise TypeError(f"`key` must be a string naming a result of `{name}`, got {describe(key)}")
    if derivation is not None:
        return lambdify_result(derivation, key, modules)
    return _lambdified(name, key, modules)


def check_all(*, seed: int = 0, n: int = MIN_POINTS, strict: bool = True) -> dict[str, CheckReport]:
    """Check every registered derivation; returns name -> :class:`CheckReport`.

    Parameters
    ----------
    seed, n, strict
        As for :meth:`Derivation.check`.
    """
    return {name: factory().check(seed=seed, n=n, strict=strict) for name, factory in DERIVATIONS.items()}


def latex_document(names: Iterable[str] | None = None) -> str:
    r"""A compilable LaTeX document with the chosen derivations (all by default).

    Parameters
    ----------
    names : iterable of str, optional
        Keys of ``DERIVATIONS``, in the order to print them.

    Returns
    -------
    str
        The document (pure ASCII), from ``\documentclass`` to ``\end{document}``.
    """
    chosen = list(DERIVATIONS) if names is None else [as_choice("names", n, DERIVATIONS) for n in names]
    return document(DERIVATIONS[name]() for name in chosen)
