"""Reports: pick a model, a version and a framework (or every model), then write the signed PDF."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from audit.keys import Signer
from console.errors import BadInput, SignoffError
from console.files import check_output
from console.identity.permissions import Permission, roles_with
from console.registry.views import ModelView, get_model, model_page
from console.release.policy import load_policy
from console.release.serving import serving_version
from console.tui.messages import ActionDone
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.screens.reports_data import (
    ChoicesLoaded,
    ReportChoice,
    VersionsListed,
    result_text,
)
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.model_list import FILTER_DELAY, PAGE_SIZE
from console.tui.widgets.titlebar import TitleBar
from reports.framework_catalog import Framework, list_frameworks

EVERY_MODEL = "*"  # the registry report's option id: no model name can contain "*"
HINT = (
    "The PDF's path, pages and sha256 show here. Each report is signed with your key and "
    "recorded as a report.generated event."
)


def _highlighted(options: OptionList) -> str | None:
    option = options.highlighted_option
    return option.id if option is not None and not option.disabled else None


def _refill(options: OptionList, items: list[Option | None], wanted: str | None) -> None:
    """Replace the options and highlight `wanted` (else the first): a reload keeps the choice."""
    options.set_options(items)
    ids = [option.id for option in options.options]
    if ids:
        options.highlighted = ids.index(wanted) if wanted in ids else 0


class ReportsScreen(SignoffScreen):
    """Model, version, framework left to right; the file below; g signs and writes the PDF."""

    AUTO_FOCUS = "#reports-models"
    BINDINGS = [
        Binding(
            "g", "generate", "Generate", id="reports.generate", tooltip="Build, sign, write the PDF"
        ),
        Binding("r", "reload", "Reload", id="reports.reload", tooltip="Read the store again"),
        Binding(
            "slash", "filter", "Filter", id="reports.filter", tooltip="Models by name or owner"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.frameworks: dict[str, Framework] = {}
        self.framework: str | None = None  # kept while the registry report is chosen
        self.versions: ModelView | None = None
        self.generating = False
        self._auto_path = ""
        self._filter = self.debounce(FILTER_DELAY, self.reload)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("", id="reports-who", markup=False)
        with Horizontal(id="reports-choices"):
            with Vertical(id="reports-models-pane"):
                yield Input(placeholder="filter models", compact=True, id="reports-filter")
                yield OptionList(id="reports-models")
            yield OptionList(id="reports-versions")
            yield OptionList(id="reports-frameworks")
        yield Static("", id="reports-summary", classes="one-line", markup=False)
        with Horizontal(id="reports-output"):
            yield Input(placeholder="the PDF file to write", id="reports-path")
            yield Button("Generate PDF", variant="primary", id="reports-generate")
        with Horizontal(id="reports-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="reports-progress")
            yield Static("", id="reports-stage", classes="one-line", markup=False)
        yield Static(HINT, id="reports-result")
        yield KeyBar()

    def on_mount(self) -> None:
        titles = {"models": "Model", "versions": "Version", "frameworks": "Framework"}
        for n, (name, title) in enumerate(titles.items(), start=1):
            self.query_one(f"#reports-{name}", OptionList).border_title = f"{n} {title}"
        self.query_one("#reports-path", Input).border_title = "4 PDF file"
        self.query_one("#reports-progress", ProgressBar).display = False
        self._stage("g, or Enter in the file name, generates the report")
        super().on_mount()

    # ---- loading ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load(self.query_one("#reports-filter", Input).value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports")
    @reads_store
    def load(self, match: str) -> None:
        models = model_page(self.store, match=match, limit=PAGE_SIZE)
        frameworks = list_frameworks()
        me = self.signoff.acting_user()
        if me is None:
            who = "read-only: start the console with --as USER to generate reports"
        else:
            who = f"{me.name} ({me.role}) · reports are for {', '.join(roles_with(Permission.REPORT))}"
        if not get_current_worker().is_cancelled:  # a newer load replaced this one
            self.post_message(ChoicesLoaded(models, match, frameworks, who))

    @on(ChoicesLoaded)
    def show_choices(self, data: ChoicesLoaded) -> None:
        self.query_one("#reports-who", Static).update(data.who)
        self.frameworks = {f.id: f for f in data.frameworks}
        models = self.query_one("#reports-models", OptionList)
        self._show_frameworks(_highlighted(models) != EVERY_MODEL)
        if data.match != self.query_one("#reports-filter", Input).value.strip():
            return  # the filter changed since: a newer list is on its way
        page = data.models
        items: list[Option | None] = [Option(m.name, id=m.name) for m in page.models]
        if page.has_after:
            more = f"… {page.total - len(page.models):,} more: type in the filter above"
            items.append(Option(Text(more, style="dim"), disabled=True))
        if items:
            items.append(None)  # a rule between the models and the registry report
        items.append(Option("All models (registry)", id=EVERY_MODEL))
        _refill(models, items, _highlighted(models))

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-versions")
    @reads_store
    def load_versions(self, name: str) -> None:
        model = get_model(self.store, name)
        serving = serving_version(load_policy(self.store).stage_names, model.stages)
        if not get_current_worker().is_cancelled:
            self.post_message(VersionsListed(model, serving))

    @on(VersionsListed)
    def show_versions(self, data: VersionsListed) -> None:
        if _highlighted(self.query_one("#reports-models", OptionList)) != data.model.name:
            return  # the highlight moved on while this model was read
        versions = self.query_one("#reports-versions", OptionList)
        same = self.versions is not None and self.versions.name == data.model.name
        wanted = _highlighted(versions) if same else None
        self.versions = data.model
        items: list[Option | None] = []
        for version in reversed(data.model.versions):
            prompt = Text(f"v{version.number}")
            if version.stages:
                prompt.append("  " + ", ".join(version.stages), style="green")
            items.append(Option(prompt, id=str(version.number)))
        if not items:
            items.append(Option(Text("no version yet", style="dim"), disabled=True))
        versions.disabled = False
        _refill(versions, items, wanted or (str(data.serving) if data.serving else None))
        if self.query_one("#reports-frameworks", OptionList).disabled:
            self._show_frameworks(True)
        self._choice_changed()

    def action_filter(self) -> None:
        self.query_one("#reports-filter", Input).focus()

    @on(Input.Changed, "#reports-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter.restart()

    @on(Input.Submitted, "#reports-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#reports-models", OptionList).focus()

    # ---- choosing -----------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#reports-models")
    def model_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_id != EVERY_MODEL:
            if event.option_id is not None:
                self.load_versions(event.option_id)
            return
        versions = self.query_one("#reports-versions", OptionList)
        versions.set_options([Option(Text("every version of every model", style="dim"))])
        versions.disabled = True  # a registry report has no version nor framework to pick
        self._show_frameworks(False)
        self._choice_changed()

    def _show_frameworks(self, active: bool) -> None:
        frameworks = self.query_one("#reports-frameworks", OptionList)
        frameworks.disabled = not active
        if active:
            items: list[Option | None] = [
                Option(f.short, id=f.id) for f in self.frameworks.values()
            ]
            _refill(frameworks, items, self.framework)
        else:
            note = Text("none for a registry report", style="dim")
            frameworks.set_options([Option(note)])

    @on(OptionList.OptionHighlighted, "#reports-versions")
    def version_highlighted(self) -> None:
        self._choice_changed()

    @on(OptionList.OptionHighlighted, "#reports-frameworks")
    def framework_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_id in self.frameworks:
            self.framework = event.option_id
        self._choice_changed()

    @on(OptionList.OptionSelected)
    def next_choice(self, event: OptionList.OptionSelected) -> None:
        """Enter moves on to the next choice, and from the last one to the file name."""
        event.stop()
        order = ["#reports-models", "#reports-versions", "#reports-frameworks", "#reports-path"]
        later = order[order.index(f"#{event.option_list.id}") + 1 :]
        for selector in later:
            widget = self.query_one(selector)
            if not widget.disabled:
                widget.focus()
                return

    def _choice(self) -> ReportChoice | None:
        model = _highlighted(self.query_one("#reports-models", OptionList))
        if model == EVERY_MODEL:
            return ReportChoice(None)
        version = _highlighted(self.query_one("#reports-versions", OptionList))
        framework = _highlighted(self.query_one("#reports-frameworks", OptionList))
        if self.versions is None or self.versions.name != model or not version or not framework:
            return None
        return ReportChoice(model, int(version), framework)

    def _choice_changed(self) -> None:
        """Say what the report will cover; the file name follows until the user edits it."""
        choice = self._choice()
        summary = self.query_one("#reports-summary", Static)
        if choice is None:
            summary.update("Pick a model and one of its versions.")
            return
        if choice.model is None:
            summary.update("Every model: stage changes, decisions, rollbacks, break-glass uses")
        else:
            title = self.frameworks[choice.framework or ""].title
            summary.update(f"{choice.model} v{choice.version} against {title}")
        path = self.query_one("#reports-path", Input)
        if path.value in ("", self._auto_path):
            path.value = self._auto_path = choice.file_name

    # ---- generating ---------------------------------------------------------------------------

    @on(Input.Submitted, "#reports-path")
    @on(Button.Pressed, "#reports-generate")
    def generate_pressed(self) -> None:
        self.action_generate()

    def action_generate(self) -> None:
        if self.generating:
            self.notify("A report is being generated; wait for it to finish.", timeout=3)
            return
        choice = self._choice()
        if choice is None:
            self.notify("Pick a model and one of its versions first.", severity="warning")
            return
        try:
            output = self._output(choice)
            check_output(output)  # before the passphrase: a wrong path costs nothing
        except SignoffError as error:
            self.notify(error.message, severity="error")
            return

        def signed(signer: Signer) -> None:
            self.generating = True
            self.query_one("#reports-progress", ProgressBar).update(total=100, progress=0)
            self.query_one("#reports-progress", ProgressBar).display = True
            self._stage("starting")
            self.run_report(signer, choice, output)

        self.signoff.with_signer(signed)

    def _output(self, choice: ReportChoice) -> Path:
        text = self.query_one("#reports-path", Input).value.strip()
        if not text:
            raise BadInput("name the PDF file to write, e.g. " + choice.file_name)
        path = Path(text).expanduser()
        if path.is_dir():  # a folder: the report goes in it under its usual name
            path = path / choice.file_name
        return path.absolute()

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-generate")
    def run_report(self, signer: Signer, choice: ReportChoice, output: Path) -> None:
        from reports.compliance import generate_registry_report, generate_report

        def progress(label: str, fraction: float) -> None:
            self.app.call_from_thread(self._progress, label, fraction)

        check_output(output)  # again: the folder may have gone while the key was unlocked
        if choice.model is None:
            result = generate_registry_report(self.store, signer, progress=progress, output=output)
        else:
            result = generate_report(
                self.store,
                signer,
                choice.model,
                choice.version,
                choice.framework,
                progress=progress,
                output=output,  # written with its event, or neither
            )
        summary = f"Report written to {output} ({result.pages} pages)."
        self.post_message(ActionDone(summary, result.event_seq, result_text(result, output)))

    def _progress(self, label: str, fraction: float) -> None:
        self.query_one("#reports-progress", ProgressBar).update(progress=round(100 * fraction))
        self._stage(label)

    def _stage(self, text: str) -> None:
        self.query_one("#reports-stage", Static).update(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.state == WorkerState.ERROR and event.worker.group == "reports-generate":
            self.generating = False
            self.query_one("#reports-progress", ProgressBar).display = False
            self._stage("not generated: see the notification")

    def show_done(self, done: ActionDone) -> None:
        self.generating = False
        self.query_one("#reports-progress", ProgressBar).update(progress=100)
        self._stage("done")
        self.query_one("#reports-result", Static).update(done.detail or "")
