"""The layout's one rule that code can break: runtime code (``flows``, ``warehouse``, ``docs_site``,
``inference``, ``expectations``, ``cli``) never imports the development tools (``training``, ``synth``,
``benchmarks``). The one exception is named: ``callaudit synth`` (and ``demo`` through it) makes a data set
with ``synth``, imported in that command."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("cli", "flows", "warehouse", "docs_site", "inference", "expectations")
TOOLS = ("training", "synth", "benchmarks")
ALLOWED = {("cli/pipeline.py", "cmd_synth", "synth")}


def tool_imports(path: Path) -> list[tuple[str, str]]:
    """(enclosing function or '<module>', imported tool package) for every import of a tool package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else scope
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                names = [child.module]
            found.extend((scope, name.split(".")[0]) for name in names if name.split(".")[0] in TOOLS)
            visit(child, inner)

    visit(tree, "<module>")
    return found


def test_runtime_code_never_imports_training_synth_or_benchmarks() -> None:
    arrows = [
        (str(path.relative_to(ROOT)), scope, tool)
        for package in RUNTIME
        for path in sorted((ROOT / package).rglob("*.py"))
        for scope, tool in tool_imports(path)
    ]
    assert set(arrows) <= ALLOWED, sorted(set(arrows) - ALLOWED)


def test_the_import_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from training.asr_train import train\n", encoding="utf-8")
    assert tool_imports(module) == [("f", "training")]
