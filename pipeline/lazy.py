"""Folder APIs imported on first use (PEP 562), so a command loads only the stages it runs.

A folder's `__init__.py` names its public API in an `if TYPE_CHECKING:` block of
`from pipeline.<folder>.<module> import name` lines (mypy and readers see them as usual) and
ends with `__getattr__ = lazy_api(__name__)`: the first use of a name imports its module then.
`sossut render` with a caption file so never loads the comment inbox, the preflight checks, the
duet planner or numpy (measured: ~0.25 s of a 0.6 s start).

Takes a package name; gives back its module `__getattr__`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def lazy_api(package: str) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: each name of its `if TYPE_CHECKING:` imports, imported
    from its module on first use and then kept as a plain attribute.

    Every name from the same module is set at once, so a name equal to a submodule's (`render`)
    is the function, not the module, once that module is loaded this way.
    """
    where: dict[str, tuple[str, str]] = {}  # public name -> (module, its name there)

    def sources() -> dict[str, tuple[str, str]]:
        if not where:
            try:
                source = Path(sys.modules[package].__file__ or "").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):  # no source shipped (a frozen app)
                return _scan(package, where)
            for node in ast.parse(source).body:
                if isinstance(node, ast.If) and _is_type_checking(node.test):
                    for stmt in node.body:
                        if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                            where.update({alias.asname or alias.name: (stmt.module, alias.name)
                                          for alias in stmt.names})
        return where

    def __getattr__(name: str) -> Any:
        found = sources().get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(found[0])
        namespace = vars(sys.modules[package])
        for public, (source, original) in where.items():
            if source == found[0]:
                namespace[public] = getattr(module, original)
        return namespace[name]

    return __getattr__


def _scan(package: str, where: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The public names' modules, found by importing every module of the package (slower; only
    where the package's source cannot be read)."""
    names = getattr(sys.modules[package], "__all__", ())
    for info in pkgutil.iter_modules(sys.modules[package].__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        # a name a module imported is the same object as in the module defining it
        where.update({name: (module.__name__, name) for name in names if name not in where and name in vars(module)})
    return where


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
