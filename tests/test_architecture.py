"""The package's folders are its stages, and imports only go down them: no module imports a higher stage, and
no two modules import each other, directly or through others. Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "pipeline"
# Bottom to top. Within a stage modules may import each other, never in a circle.
STAGES = {"pipeline": 0, "pipeline.exceptions": 0, "pipeline.lang": 0, "pipeline.mail": 1, "pipeline.features": 2,
          "pipeline.corpus": 3, "pipeline.model": 4, "pipeline.imap": 5, "pipeline.audit": 6, "pipeline.cli": 7}


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def stage(module: str) -> int:
    best = max((s for s in STAGES if module == s or module.startswith(s + ".")), key=len)
    return STAGES[best]


def imports(module: str) -> set[str]:
    """The pipeline modules ``module`` imports, wherever the import statement stands."""
    out = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            # `from pipeline.model import csvsafe` imports a module; `from pipeline.model.batch import Row` a name.
            out |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names}
    return out - {module}


GRAPH = {m: imports(m) for m in MODULES}


def test_every_module_is_in_a_stage() -> None:
    assert all(stage(m) is not None for m in MODULES)
    assert {"pipeline.mail.message", "pipeline.features.analyzer", "pipeline.model.classifier", "pipeline.imap.run",
            "pipeline.audit.sent"} <= set(MODULES)


def test_imports_only_go_down() -> None:
    upward = [f"{m} (stage {stage(m)}) imports {d} (stage {stage(d)})" for m, deps in GRAPH.items() for d in deps
              if stage(d) > stage(m)]
    assert not upward, "\n".join(upward)


def test_no_import_circles() -> None:
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(GRAPH[m]):
            if state.get(d) == 1:
                circles.append([*path[path.index(d):], d])
            elif d not in state:
                visit(d, [*path, d])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


def test_the_parsed_message_knows_nothing_of_later_stages() -> None:
    from pipeline.mail.message import Message

    assert "template" not in Message.__dataclass_fields__
