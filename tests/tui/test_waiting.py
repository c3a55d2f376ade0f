"""The app tests' wait helpers: they return once the condition holds, and fail clearly when it
never does (rather than hanging or asserting too early)."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.screen import Screen

from .conftest import wait_for_notification, wait_for_screen, wait_until


class Later(Screen[None]):
    pass


class Tiny(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.ready = False

    def on_mount(self) -> None:
        self.set_timer(0.3, self.become_ready)

    def become_ready(self) -> None:
        self.ready = True
        self.push_screen(Later())
        self.notify("all set")


async def test_waits_for_a_timer_a_screen_and_a_notice() -> None:
    app = Tiny()
    async with app.run_test(size=(40, 10)) as pilot:
        assert not app.ready
        await wait_until(pilot, lambda: app.ready)
        assert isinstance(await wait_for_screen(pilot, Later), Later)
        assert await wait_for_notification(pilot, "all set") == "all set"


async def test_a_condition_that_never_holds_fails_naming_it() -> None:
    app = Tiny()
    async with app.run_test(size=(40, 10)) as pilot:
        with pytest.raises(AssertionError, match=r'waited 0.2 s for .*app\.title == "never"'):
            await wait_until(pilot, lambda: app.title == "never", timeout=0.2)
        with pytest.raises(AssertionError, match="a notice 'no such notice'"):
            await wait_for_notification(pilot, "no such notice", timeout=0.2)
