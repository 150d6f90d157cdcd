"""The arrows between kinds of code point one way (issue 15): the domain (`crm` root modules,
`crm.services`, `crm.models`) imports nothing that starts processes, serves HTTP, patches Rasa,
evaluates NLU, or belongs to the console, the actions or the channels; and no two modules import
each other at load time."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

from crm.settings import PROJECT_ROOT

# what the domain must never import (module prefixes)
FORBIDDEN_FOR_DOMAIN = (
    "crm.runtime",
    "crm.nlu",
    "crm.console",
    "actions",
    "channels",
    "tests",
    "scripts",
    "rasa",
    "rasa_sdk",
    "sanic",
    "aiohttp",
    "socketio",
    "subprocess",
    "nlu_components",
)
# the entry point `python -m crm` sits in the package root but is the command line, not the domain
ENTRY_POINTS = {"crm.__main__"}
PACKAGES = ("crm", "actions", "channels", "nlu_components")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> Dict[str, Path]:
    return {
        module_name(p): p
        for package in PACKAGES
        for p in (PROJECT_ROOT / package).rglob("*.py")
        if "migrations" not in p.parts
    }


def imports(path: Path, top_level_only: bool = False) -> List[str]:
    """Every module `path` imports (with `top_level_only`, only those imported when it loads)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def is_domain(name: str) -> bool:
    if name in ENTRY_POINTS or not (name == "crm" or name.startswith("crm.")):
        return False
    return not name.startswith(("crm.runtime", "crm.nlu", "crm.console"))


def test_the_domain_imports_no_runtime_tool_console_action_or_channel():
    offences = []
    for name, path in project_modules().items():
        if is_domain(name):
            for imported in imports(path):
                if any(imported == bad or imported.startswith(bad + ".") for bad in FORBIDDEN_FOR_DOMAIN):
                    offences.append(f"{name} imports {imported}")
    assert not offences, "the domain must not import these:\n" + "\n".join(sorted(set(offences)))


def test_the_boundary_check_catches_an_offence(tmp_path):
    """The check above is not vacuous: a domain-shaped module importing the runtime is caught."""
    fake = tmp_path / "module.py"
    fake.write_text("from crm.runtime.supervisor import serve\nimport sanic\n")
    assert [m for m in imports(fake) if m.startswith(("crm.runtime", "sanic"))]
    assert is_domain("crm.services.queue") and is_domain("crm.models") and not is_domain("crm.runtime.outbox")


def test_no_import_cycles_at_load_time():
    modules = project_modules()
    graph: Dict[str, Set[str]] = {}
    for name, path in modules.items():
        graph[name] = {m for m in imports(path, top_level_only=True) if m in modules and m != name}
    seen: Dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: List[List[str]] = []

    def visit(node: str, trail: List[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in seen:
                visit(nxt, trail + [nxt])
        seen[node] = 2

    for name in sorted(graph):
        if name not in seen:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
