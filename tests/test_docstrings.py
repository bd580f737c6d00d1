"""Every public name of heavyball has a docstring.

The public names are those of ``heavyball.__all__``, of the ``__all__`` of every public
module (no leading underscore, found by walking the package, so a new module is covered
without editing this file), and the public methods and properties of the public classes
that heavyball defines. Data (numbers, tuples, dictionaries) is documented by the ``#:``
comment above it and is not checked here. The documentation site shows these docstrings
(``docs/reference``), so a name without one is a blank page there.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import heavyball

#: the public functions of a figure module (``heavyball.figures`` documents the contract)
FIGURE_CONTRACT = ("data", "plot", "make")


def _public_modules() -> list[types.ModuleType]:
    """Every public module and subpackage module (no component with a leading underscore)."""
    names = [
        info.name
        for info in pkgutil.walk_packages(heavyball.__path__, prefix="heavyball.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def _own(obj) -> bool:
    """Defined in heavyball (not a re-exported numpy/typing object)."""
    module = getattr(obj, "__module__", None) or ""
    return module == "heavyball" or module.startswith("heavyball.")


def _members(cls) -> list[tuple[str, object]]:
    """Public methods and properties of ``cls``, its own and those of heavyball's base classes."""
    out, seen = [], set()
    namespace = {}
    for klass in reversed([k for k in cls.__mro__ if _own(k)]):
        namespace.update(vars(klass))
    for name, value in namespace.items():
        if name.startswith("_") or name in seen:
            continue
        seen.add(name)
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value):
            out.append((name, value))
    return out


def _public_objects() -> dict[str, object]:
    """Qualified name -> object, for every public function, class, method and property."""
    found: dict[str, object] = {}
    candidates = [getattr(heavyball, name) for name in heavyball.__all__ if not name.startswith("__")]
    for module in _public_modules():
        names = getattr(module, "__all__", None)
        if module.__name__.startswith("heavyball.figures."):  # a figure: the registry's contract
            names = [n for n in FIGURE_CONTRACT if hasattr(module, n)]
        elif names is None:
            names = [n for n in vars(module) if not n.startswith("_")]
        candidates += [getattr(module, n) for n in names]
    for obj in candidates:
        if isinstance(obj, types.ModuleType) or not (inspect.isclass(obj) or callable(obj)) or not _own(obj):
            continue
        qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
        if obj.__module__.startswith("heavyball.figures.") and "." not in qualname:  # a figure's function
            qualname = f"{obj.__module__.removeprefix('heavyball.')}.{qualname}"
        if found.get(qualname, obj) is not obj:  # the same name in two modules: name the module too
            qualname = f"{obj.__module__.removeprefix('heavyball.')}.{qualname}"
        found[qualname] = obj
        if inspect.isclass(obj):
            for name, member in _members(obj):
                found[f"{qualname}.{name}"] = member
    return dict(sorted(found.items()))


def _has_docstring(obj) -> bool:
    doc = obj.__doc__ if isinstance(obj, property) else inspect.getdoc(obj)
    return bool(doc and doc.strip())


PUBLIC = _public_objects()


def test_the_walk_finds_the_api():
    # independent anchors: names every user meets first, and a method of each kind
    for name in (
        "SGD",
        "SGD.step",
        "Quadratic.valley",
        "iterate",
        "simulate",
        "Derivation.check",
        "figures.rate_map.make",
    ):
        assert name in PUBLIC, name


@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_name_has_a_docstring(name):
    assert _has_docstring(PUBLIC[name]), f"`{name}` ({PUBLIC[name]!r}) has no docstring"
