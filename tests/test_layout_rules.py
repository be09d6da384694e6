"""The test suite's own layout: helpers live in tests/support/, and no module imports a test module.

A test module that imports another runs (and collects fixtures from) code it does not own, and
moving or renaming a test then breaks an unrelated one. Shared code goes in tests/support/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TEST_MODULE = re.compile(r"^tests\.test_\w+$")


def _module_name(path: Path, root: Path) -> str:
    """The dotted name of ``path`` with ``root`` (the tests/ folder) as the ``tests`` package."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(("tests", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def _imported(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) for every module ``path`` imports, relative imports made absolute."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]  # from . import test_x
    return found


def imports_of_test_modules(root: Path) -> list[str]:
    """Every import, in any Python file under ``root``, of a tests/test_*.py module, as file:line -> module."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for line, module in _imported(path, root):
            if TEST_MODULE.match(module) and module != _module_name(path, root):
                found.append(f"{path.relative_to(root)}:{line} -> {module}")
    return sorted(set(found))


def test_no_module_imports_a_test_module() -> None:
    found = imports_of_test_modules(TESTS)
    assert found == [], "move what these import into tests/support/:\n" + "\n".join(found)


def test_the_check_finds_each_way_of_importing_a_test_module(tmp_path: Path) -> None:
    (tmp_path / "support").mkdir()
    for name in ("__init__.py", "support/__init__.py", "test_a.py", "support/helpers.py"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "test_b.py").write_text(
        "from .test_a import x\nfrom tests.test_a import y\nimport tests.test_a\nfrom . import test_a\n"
        "from .support.helpers import z\nfrom .conftest import SAMPLE_SLUGS\n",
        encoding="utf-8",
    )
    (tmp_path / "support" / "helpers.py").write_text("def f():\n    from ..test_a import x\n", encoding="utf-8")
    assert imports_of_test_modules(tmp_path) == [
        "support/helpers.py:2 -> tests.test_a",
        "test_b.py:1 -> tests.test_a",
        "test_b.py:2 -> tests.test_a",
        "test_b.py:3 -> tests.test_a",
        "test_b.py:4 -> tests.test_a",
    ]


def test_shared_helpers_live_in_support() -> None:
    """tests/support/ is a package and its modules are no test modules (pytest never collects them)."""
    assert (TESTS / "support" / "__init__.py").exists()
    assert not list((TESTS / "support").glob("test_*.py"))
