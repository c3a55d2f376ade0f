"""The command table in fieldkit/cli/__init__.py stays true to the commands themselves.

`fieldkit --help` lists the commands from that table without importing them (fieldkit/cli/lazy.py),
so a command added, renamed or re-described without the table would be missing or wrong there."""

from __future__ import annotations

import importlib
import pkgutil

import click
import pytest

import fieldkit.cli
from fieldkit.cli import COMMANDS, FieldkitGroup, main
from fieldkit.cli.lazy import LazyCommand, LazyGroup
from tests.conftest import CliRun


def real_commands() -> dict[str, tuple[str, click.Command]]:
    """Every command of every module in fieldkit/cli (its COMMANDS list): name → (module, it)."""
    found: dict[str, tuple[str, click.Command]] = {}
    for info in pkgutil.iter_modules(fieldkit.cli.__path__):
        module = importlib.import_module(f"fieldkit.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            assert command.name not in found, f"two commands are called {command.name}"
            found[command.name] = (module.__name__, command)
    return found


def test_the_table_names_every_command_and_its_module() -> None:
    real = real_commands()
    assert sorted(COMMANDS) == sorted(real)
    for name, entry in COMMANDS.items():
        assert entry.module == real[name][0], name


@pytest.mark.parametrize("limit", [20, 45, 60, 74, 100, 400])
def test_the_summaries_are_what_click_would_list(limit: int) -> None:
    """The same short help at any terminal width as the loaded command gives."""
    group = LazyGroup(lazy_commands=COMMANDS)
    for name, (_, command) in real_commands().items():
        listed = group.listed_command(name)
        assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), name
        assert listed.hidden == command.hidden, name


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_listing_equals_the_one_of_the_loaded_commands(width: int) -> None:
    lazy = FieldkitGroup(name="fieldkit", lazy_commands=COMMANDS)
    loaded = click.Group(name="fieldkit", commands=[c for _, c in real_commands().values()])
    texts = []
    for group in (lazy, loaded):
        formatter = click.HelpFormatter(width=width)
        group.format_commands(click.Context(group), formatter)
        texts.append(formatter.getvalue())
    assert texts[0] == texts[1]
    assert lazy.commands == {}  # listing loaded nothing


def test_a_command_is_loaded_when_it_is_used() -> None:
    group = LazyGroup(lazy_commands={"schedule": LazyCommand("fieldkit.cli.schedule", "S.")})
    ctx = click.Context(group)
    assert group.list_commands(ctx) == ["schedule"]
    command = group.get_command(ctx, "schedule")
    assert command is not None and command.name == "schedule"
    assert group.commands == {"schedule": command}
    assert group.get_command(ctx, "no-such-command") is None


def test_a_table_entry_without_its_command_is_a_clear_bug() -> None:
    group = LazyGroup(lazy_commands={"scheduel": LazyCommand("fieldkit.cli.schedule", "S.")})
    with pytest.raises(LookupError, match="no command 'scheduel'"):
        group.get_command(click.Context(group), "scheduel")


def test_help_and_commands_work_through_the_table(cli: CliRun) -> None:
    listing = cli("--help")
    assert listing.exit_code == 0
    assert "participant   Add participants and list the interview queue." in listing.output
    one = cli("schedule", "--help")
    assert one.exit_code == 0 and "Commands:\n  check" in one.output
    unknown = cli("schedul")
    assert unknown.exit_code == 2 and "No such command 'schedul'" in unknown.stderr
    assert isinstance(main, FieldkitGroup)
