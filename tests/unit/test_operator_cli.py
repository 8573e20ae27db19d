"""The operator CLI installs with `pip install .`: it imports nothing of the development extras until a
command needs the local stack, every command's --help shows an example, and a missing extra is a clear
message (exit 2), not a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from catalog_sync_local.cli.main import main

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter where the development extras cannot be imported, as after `pip install .`.
WITHOUT_DEV_EXTRAS = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
import importlib.util
real_find_spec = importlib.util.find_spec
def find_spec(name, *args):
    return None if name.split(".")[0] in BLOCKED else real_find_spec(name, *args)
importlib.util.find_spec = find_spec
from catalog_sync_local.cli.main import main
sys.exit(main({args!r}, standalone_mode=True))
"""
DEV_ONLY_MODULES = ["moto", "samtranslator", "jsonschema", "standardwebhooks", "hypothesis", "matplotlib"]


def _without_dev_extras(*args: str) -> subprocess.CompletedProcess[str]:
    code = WITHOUT_DEV_EXTRAS.format(blocked=DEV_ONLY_MODULES, args=list(args))
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO, check=False
    )


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(main)


def test_the_cli_has_the_operator_commands() -> None:
    assert {("status",), ("replay",), ("redrive",), ("full-sync",), ("hooks", "sync")} <= set(COMMANDS)
    assert {("conflicts", "list"), ("conflicts", "show"), ("conflicts", "resolve")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example_of_itself(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"catalog-sync {' '.join(path)}" in result.output


def test_the_cli_needs_click_rich_and_yaml_as_install_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert {"click", "rich", "pyyaml", "boto3"} <= _names(project["dependencies"])
    assert not {"click", "rich", "pyyaml"} & _names(project["optional-dependencies"]["dev"])


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


@pytest.mark.parametrize(
    "path",
    [("status",), ("replay",), ("redrive",), ("full-sync",), ("hooks", "sync"), ("conflicts", "resolve")],
)
def test_help_works_without_the_development_extras(path: tuple[str, ...]) -> None:
    result = _without_dev_extras(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example:" in result.stdout


def test_the_local_stack_without_the_extras_is_a_clear_message() -> None:
    result = _without_dev_extras("status", "--connection", "store-a-to-b")
    assert result.returncode == 2
    assert "needs the development extras" in result.stderr
    assert "moto" in result.stderr and "--stack-name" in result.stderr
    assert "Traceback" not in result.stderr
