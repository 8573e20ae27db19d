"""The local stack (moto, aws-sam-translator, the store simulators' schema checks) comes with the
development extras, not with `pip install .`: the operator commands work against a deployed stack
(`--stack-name`) without them, and anything that needs the local stack says what to install instead of
failing on an import."""

from __future__ import annotations

import importlib.util

import click

# Imported only when the local stack runs: moto (AWS), samtranslator (the SAM transform), jsonschema
# (the BigCommerce simulator checks requests against the published schemas).
LOCAL_STACK_MODULES = ("moto", "samtranslator", "jsonschema")


def missing_local_stack_modules() -> list[str]:
    return [name for name in LOCAL_STACK_MODULES if importlib.util.find_spec(name) is None]


def require_local_stack(what: str = "the local stack", *, otherwise: str = "") -> None:
    """Exit 2 with a message naming the missing packages, before anything imports them."""
    missing = missing_local_stack_modules()
    if missing:
        raise click.UsageError(
            f"{what} needs the development extras ({', '.join(missing)} not installed): "
            "pip install -e '.[dev]' in a clone of the repository" + (f", {otherwise}" if otherwise else "")
        )
