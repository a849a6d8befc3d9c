"""Turns a decision into its paper: render off the GUI thread, then archive and register it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hallclient.counter import Counter, DecisionOutcome
from ui.tasks import TaskRunner


class ReceiptPrinter:
    def __init__(self, counter: Counter, runner: TaskRunner, *, layout: str = "a4") -> None:
        self.counter = counter
        self.runner = runner
        self.layout = layout

    def print_receipt(
        self,
        outcome: DecisionOutcome,
        on_done: Callable[[tuple[str, Path]], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        def render() -> bytes:
            from printing.receipt import render_receipt

            return render_receipt(outcome.receipt, layout=self.layout)

        def archived(pdf: bytes) -> None:
            self.runner.run(
                lambda: (outcome.receipt.case_no, self.counter.archive_document(outcome, pdf)),
                on_done,
                on_error,
            )

        self.runner.run(render, archived, on_error, pool="io")

    def warm_up(self) -> None:
        """Register fonts and styles now, so the first receipt of the day is not slow."""

        def warm() -> Any:
            from printing.fonts import warm_up

            warm_up()

        self.runner.run(warm, pool="io")
