"""Settings flow from the entry points down: below the CLI and the DAGs, no module reads the environment.

A stage handed its settings can be run, tested and reasoned about from its
arguments alone; one that reads `TRACELAKE_*` itself answers differently under
a test, a DAG and a shell. The core, the stages and the schemas are parsed
(not imported) and every read of the environment is reported by file and line.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BELOW_THE_ENTRY_POINTS = ("tracelake/core", "streams", "jobs", "simulator", "schemas")
ENTRY_POINTS = {
    "tracelake/core/settings.py": "defines the settings class: the one place `TRACELAKE_*` is read",
    "jobs/trace/submit.py": "the spark-submit entry point: its process has no CLI above it to build the settings",
}
"""Modules allowed to read the environment, each with the reason."""

ENVIRONMENT = frozenset({"environ", "environb", "getenv"})
SETTINGS_CLASSES = frozenset({"Settings", "AirflowSettings", "BaseSettings"})


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every read of the environment, or of settings built from it, in `tree`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT:
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Name) and node.id in ENVIRONMENT:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found.extend((node.lineno, f"from os import {alias.name}") for alias in node.names
                         if alias.name in ENVIRONMENT)
        elif isinstance(node, ast.Call) and _name(node.func) in SETTINGS_CLASSES:
            found.append((node.lineno, f"{ast.unparse(node.func)}(...)"))
        elif isinstance(node, ast.ClassDef) and any(_name(base) in SETTINGS_CLASSES for base in node.bases):
            found.append((node.lineno, f"class {node.name} reading the environment"))
    return sorted(set(found))


def _modules() -> list[Path]:
    return sorted(path for folder in BELOW_THE_ENTRY_POINTS for path in (ROOT / folder).rglob("*.py"))


def test_no_module_below_the_entry_points_reads_the_environment() -> None:
    modules = _modules()
    assert len(modules) > 50, "the layout test found too few modules: has the tree moved?"
    offences = [
        f"{relative}:{line}: {what}"
        for path in modules
        if (relative := path.relative_to(ROOT).as_posix()) not in ENTRY_POINTS
        for line, what in environment_reads(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    ]
    assert not offences, (
        "settings are handed down from the CLI and the DAGs; these modules read the environment instead "
        "(pass the value as a parameter, or list a real entry point in ENTRY_POINTS with its reason):\n"
        + "\n".join(offences)
    )


def test_every_listed_entry_point_exists_and_still_needs_its_exemption() -> None:
    for relative in ENTRY_POINTS:
        path = ROOT / relative
        assert path.is_file(), f"{relative} is listed in ENTRY_POINTS but does not exist"
        assert environment_reads(ast.parse(path.read_text(encoding="utf-8"))), (
            f"{relative} no longer reads the environment: drop it from ENTRY_POINTS"
        )


def test_the_check_sees_every_way_of_reading_the_environment() -> None:
    source = (
        "import os\n"
        "from os import environ, getenv\n"
        "a = os.environ['TRACELAKE_LAKE']\n"
        "b = os.getenv('TRACELAKE_LAKE')\n"
        "c = environ.get('TRACELAKE_LAKE')\n"
        "d = Settings(lake='x')\n"
        "e = launcher.AirflowSettings()\n"
        "class Mine(BaseSettings): pass\n"
    )
    lines = {line for line, _what in environment_reads(ast.parse(source))}
    assert lines == {2, 3, 4, 5, 6, 7, 8}
    assert environment_reads(ast.parse("settings.lake\nsettings.model_copy(update={})\n")) == []
