"""The package's shape: stages talk through their folders' public API, with no cycles."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import pipeline
from tests.conftest import REPO

PACKAGE = REPO / "pipeline"
FOLDERS = ("video", "speech", "captions", "card", "comments", "batch", "cli")


def _modules() -> list[tuple[Path, str]]:
    """(path, node) for every module; node is its folder, or its own name at the top level."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        out.append((path, parts[0] if len(parts) > 1 else path.stem))
    return out


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    """Every import in the module, including the ones inside functions (they are still edges)."""
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom | ast.Import)]


def _targets(node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.module and node.level == 0 else []
    return [alias.name for alias in node.names]


def test_other_folders_import_only_a_folders_public_api() -> None:
    bad = []
    for path, me in _modules():
        for node in _imports(path):
            for module in _targets(node):
                parts = module.split(".")
                if parts[0] == "pipeline" and len(parts) > 2 and parts[1] in FOLDERS and parts[1] != me:
                    bad.append(f"{path.relative_to(REPO)} imports {module}")
    assert bad == []


def test_public_api_of_each_folder_is_declared_and_importable() -> None:
    for folder in FOLDERS:
        module = importlib.import_module(f"pipeline.{folder}")
        assert module.__doc__, f"pipeline.{folder} has no docstring"
        names = getattr(module, "__all__", None)
        assert names, f"pipeline.{folder} declares no __all__"
        for name in names:
            assert hasattr(module, name), f"pipeline.{folder}.__all__ names {name}, which is missing"


def test_no_private_name_is_imported_from_another_module() -> None:
    bad = []
    for path, _ in _modules():
        for node in _imports(path):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
                bad += [f"{path.relative_to(REPO)}: {a.name} from {node.module}"
                        for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert bad == []


def test_no_import_cycles_between_stages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path, me in _modules():
        for node in _imports(path):
            for module in _targets(node):
                parts = module.split(".")
                if parts[0] == "pipeline" and len(parts) > 1 and parts[1] != me:
                    graph[me].add(parts[1])
    # __init__ (the public API, lazy) and __main__ sit above everything; they may name anything.
    for top in ("__init__", "__main__"):
        graph.pop(top, None)

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return [*trail, nxt]
                if nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = [c for c in (cycle_from(n) for n in list(graph)) if c]
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


def test_import_pipeline_gives_the_public_api() -> None:
    from pipeline.reply import ReplyJob, make_reply

    assert pipeline.make_reply is make_reply
    assert pipeline.ReplyJob is ReplyJob
    for name in pipeline.__all__:
        assert getattr(pipeline, name) is not None
    with pytest.raises(AttributeError):
        pipeline.no_such_thing  # noqa: B018


def test_import_pipeline_is_light() -> None:
    """`import pipeline` alone loads no stage (the CLI's start-up time depends on it)."""
    code = "import sys, pipeline; print(sorted(m for m in sys.modules if m.startswith('pipeline')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['pipeline']"
