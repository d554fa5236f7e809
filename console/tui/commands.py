"""The command palette provider: every screen and action of the console, fuzzy-searched."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from console.tui.app import SignoffApp


MODEL_HITS = 20  # models offered per query: the registry is searched, not listed


class SignoffCommands(Provider):
    """Navigation, actions, one entry per open request, and the models a query names."""

    async def startup(self) -> None:
        from console.release.requests import list_requests

        app = cast("SignoffApp", self.app)
        # `app.store` may still be opening: touch it in the thread, never on the UI's.
        self._requests = await asyncio.to_thread(lambda: list_requests(app.store, pending=True))

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("SignoffApp", self.app)
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Dashboard", "Go to the dashboard", partial(app.switch_mode, "dashboard")),
            ("Models", "Go to the registry", partial(app.switch_mode, "models")),
            ("Approvals inbox", "Requests awaiting sign-off", partial(app.switch_mode, "inbox")),
            ("Help", "Keys of every screen", app.action_help),
        ]
        for extra in getattr(app, "extra_commands", lambda: [])():
            commands.append(extra)
        for request in getattr(self, "_requests", []):
            commands.append(
                (
                    f"Review request {request.id}: {request.model}:{request.version} → {request.stage}",
                    f"requested by {request.requester}",
                    partial(app.open_review, request.id),
                )
            )
        return commands

    async def _models(self, query: str) -> list[tuple[str, str, Callable[[], object]]]:
        """ "Open model" entries for the models whose name contains the query's last word."""
        from console.registry.views import model_page

        app = cast("SignoffApp", self.app)
        words = query.split()
        if not words:
            return []
        page = await asyncio.to_thread(
            lambda: model_page(app.store, match=words[-1], limit=MODEL_HITS)
        )
        return [
            (
                f"Open model {model.name}",
                "versions, card, validation, history",
                partial(app.open_model, model.name),
            )
            for model in page.models
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands() + await self._models(query):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
