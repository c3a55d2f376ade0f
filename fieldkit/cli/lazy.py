"""A click group whose commands are imported only when they are used.

`fieldkit --help` lists every command with a one-line summary, but importing every command module
to read it would load what all commands need (the database library, audio, exports …) just to
print a list. So the group knows its commands by name, module and summary; a command's module is
imported when that command runs, when its own --help is asked, or when shell completion needs it.
The summaries are kept in step with the commands by tests/cli/test_lazy_commands.py."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives, and the first sentence of its help (what --help lists)."""

    module: str  # it holds the command in its COMMANDS list
    summary: str


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(self.load(cmd_name))
        return self.commands.get(cmd_name)

    def load(self, name: str) -> click.Command:
        """Import the command's module and take the command of that name from its COMMANDS."""
        module = importlib.import_module(self.lazy_commands[name].module)
        for command in module.COMMANDS:
            if command.name == name:
                return command  # type: ignore[no-any-return]
        raise LookupError(f"{module.__name__} has no command {name!r} in its COMMANDS")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The Commands section of --help, written from the summaries (nothing imported); laid
        out as click lays out loaded commands."""
        listed = [(name, self.listed_command(name)) for name in self.list_commands(ctx)]
        shown = [(name, command) for name, command in listed if not command.hidden]
        if not shown:
            return
        room = formatter.width - 6 - max(len(name) for name, _ in shown)
        rows = [(name, command.get_short_help_str(room)) for name, command in shown]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def listed_command(self, name: str) -> click.Command:
        """The command itself once loaded; until then a stand-in that carries its summary."""
        loaded = self.commands.get(name)
        if loaded is not None:
            return loaded
        return click.Command(name, help=self.lazy_commands[name].summary)
