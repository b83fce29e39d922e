"""Drive JupyterLab in headless Chromium the way a learner does: open a notebook, run every
cell, then move every widget and watch the picture it draws.

``LabServer`` runs JupyterLab on 127.0.0.1 over a scratch copy of the notebooks (so nothing
the browser does is ever saved into the repository), with its own settings (news and update
checks off, autosave off) and workspaces (no previous notebook reopened).
``check_notebook`` opens one notebook in a fresh page and returns the problems it saw, each a
readable line; an empty list means every cell ran and every widget drew and responded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# text that means a widget was printed instead of drawn: "IntSlider(value=0, ...)", "interactive(children=..."
WIDGET_REPR = re.compile(r"\b(\w*(Slider|Dropdown|Buttons|Box|Checkbox|Select|Text)|interactive)\(")
# the notebook panel on screen: JupyterLab keeps hidden panels of other documents in the DOM
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
SETTINGS = {
    # no request to the news feed or the update check, and no pop-up asking about them
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # the browser never writes a notebook back, even into the scratch copy
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # every cell in the page, so that a cell's widgets can be found and moved wherever it is
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_executable() -> str:
    """The system Chromium (Debian's ``chromium``), or ``$GANEDU_CHROMIUM``."""
    path = os.environ.get("GANEDU_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError(
            "no Chromium found: install it (sudo apt-get install chromium) or point GANEDU_CHROMIUM at one"
        )
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab serving ``notebooks`` (copied into ``scratch/root``) on a free local port."""

    def __init__(self, notebooks: list[Path], scratch: Path, log: Path):
        self.root = scratch / "root"
        self.root.mkdir(parents=True)
        for nb in notebooks:
            shutil.copy(nb, self.root / nb.name)
        settings = scratch / "settings"
        for name, values in SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        self.port = _free_port()
        self.token = "ganedu-browser-test"
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        )
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}", "--LabApp.expose_app_in_browser=True",
        ]  # fmt: skip
        self._log = log.open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_up(log)

    def _wait_until_up(self, log: Path, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}; see {log}")
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see {log}")

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so the next notebook does not share the CPU with the last one."""
        for session in self._api("GET", "/api/sessions"):
            self._api("DELETE", f"/api/sessions/{session['id']}")

    def _api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@dataclass
class Report:
    """What one notebook showed in the browser."""

    notebook: str
    cells_run: int = 0
    widgets_moved: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# Every code cell's index, execution count, error outputs and the text of its outputs, read from
# textContent: JupyterLab does not draw cells that are off screen, so innerText would miss them.
CELLS_JS = """(controls) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  return notebook.widgets.map((cell, index) => ({index, type: cell.model.type, node: cell.node}))
    .filter(c => c.type === 'code')
    .map(({index, node}) => {
      const model = notebook.widgets[index].model;
      const outputs = model.outputs.toJSON();
      return {
        index,
        count: model.executionCount,
        errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
        stderr: [...node.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
          .map(e => e.textContent),
        plain: [...node.querySelectorAll('[data-mime-type="text/plain"]')].map(e => e.textContent),
        text: (node.querySelector('.jp-Cell-outputArea') || {textContent: ''}).textContent,
        controls: node.querySelectorAll(controls).length,
      };
    });
}"""
# the widgets a learner moves; progress bars, labels and HTML are not among them
CONTROLS = ", ".join(
    [
        ".widget-slider",
        ".widget-dropdown",
        ".widget-toggle-buttons",
        ".widget-checkbox",
        ".widget-radio-box",
        ".widget-select",
        ".widget-toggle-button:not(.widget-toggle-buttons *)",
    ]
)
SETTLE_MS = 2_000
REDRAW_TIMEOUT_MS = 30_000  # a redraw takes under 5 s in smoke mode on two busy CPU cores
# what a cell's widgets drive: its images, else the text of its Output widgets (an interact's output)
DRIVEN_JS = """(cell) => {
  const images = [...cell.querySelectorAll('.jp-Cell-outputArea img')].map(i => i.src);
  return images.length ? images : [...cell.querySelectorAll('.widget-output')].map(o => o.textContent.trim()).filter(t => t);
}"""
KERNEL_IDLE_JS = (
    "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
)
RUN_ALL_JS = """() => {
  window.ganeduRunAll = undefined;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(ok => { window.ganeduRunAll = ok; });
}"""


def _move(control) -> str:
    """Move one control to another value as a learner would (keyboard on a slider's handle, a
    click on another button, another option in a list); returns what was done, for messages."""
    classes = control.get_attribute("class") or ""
    label = (
        control.locator(".widget-label").first.text_content()
        if control.locator(".widget-label").count()
        else ""
    )
    label = (label or "").strip() or "(no label)"
    if "widget-slider" in classes:
        handle = control.locator(".noUi-handle").first
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        handle.press("ArrowLeft" if at_max else "ArrowRight")
        return f"slider {label!r}"
    if "widget-dropdown" in classes or "widget-select" in classes:
        select = control.locator("select")
        options = select.locator("option").count()
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % options)
        return f"list {label!r}"
    if "widget-toggle-buttons" in classes:
        control.locator(".widget-toggle-button:not(.mod-active)").first.click()
        return f"buttons {label!r}"
    if "widget-radio-box" in classes:
        control.locator("input:not(:checked)").first.check()
        return f"radio buttons {label!r}"
    control.locator("input, button").first.click()
    return f"{classes.split()[-1]} {label!r}"


def check_notebook(browser, server: LabServer, name: str, shots: Path, timeout_s: float = 600) -> Report:
    """Open ``name`` in a fresh page, run all its cells, move every widget; see the module's doc."""
    report = Report(name)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    page.on("requestfailed", lambda r: console.append(f"request failed: {r.url}"))
    try:
        _run(page, server, name, report, shots, timeout_s)
    except Exception as e:  # a timeout or a page that never drew: report it with a screenshot
        report.problems.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")
    report.problems += [f"browser console: {text}" for text in console]
    if report.problems:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"{Path(name).stem}.png")
    page.close()
    server.shutdown_kernels()
    return report


def _run(page, server: LabServer, name: str, report: Report, shots: Path, timeout_s: float) -> None:
    # ?reset: start from an empty workspace, else JupyterLab reopens the last notebook beside this one
    page.goto(f"{server.url}/lab/tree/{name}?reset&token={server.token}")
    page.wait_for_selector(f"{PANEL} .jp-Notebook", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=120_000)
    page.evaluate(RUN_ALL_JS)
    page.wait_for_function("() => window.ganeduRunAll !== undefined", timeout=timeout_s * 1000, polling=1000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=120_000)
    page.wait_for_timeout(SETTLE_MS)  # widget views render after their models arrive
    cells = page.evaluate(CELLS_JS, CONTROLS)
    report.cells_run = sum(c["count"] is not None for c in cells)
    for c in cells:
        where = f"cell {c['index']}"
        if c["count"] is None:
            report.problems.append(f"{where} did not run")
        report.problems += [f"{where} raised {e}" for e in c["errors"]]
        if any("Traceback" in t for t in c["stderr"]) and not c["errors"]:
            report.problems.append(f"{where} printed a traceback")
        if "Error displaying widget" in c["text"]:
            report.problems.append(f"{where}: Error displaying widget")
        for text in c["plain"]:
            if m := WIDGET_REPR.search(text):
                report.problems.append(
                    f"{where} shows the text {m.group(0)!r} where a widget should be drawn"
                )
        if c["controls"]:
            _move_every_control(page, c["index"], report, shots)


def _move_every_control(page, index: int, report: Report, shots: Path) -> None:
    cell = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)
    controls = cell.locator(CONTROLS)
    for k in range(controls.count()):
        before = cell.evaluate(DRIVEN_JS)
        if not before:
            report.problems.append(f"cell {index}: its widgets draw no image and print nothing")
            return
        what = _move(controls.nth(k))
        report.widgets_moved.append(f"cell {index} {what}")
        try:
            page.wait_for_function(
                f"""(cell) => {{
                  const now = ({DRIVEN_JS})(cell);
                  return now.length > 0 && JSON.stringify(now) !== {json.dumps(json.dumps(before))};
                }}""",
                arg=cell.element_handle(),
                timeout=REDRAW_TIMEOUT_MS,
                polling=250,
            )
        except Exception:
            report.problems.append(f"cell {index}: moving the {what} did not change its image")
            shots.mkdir(parents=True, exist_ok=True)
            cell.screenshot(path=shots / f"{Path(report.notebook).stem}-cell{index}.png")
        page.wait_for_function(KERNEL_IDLE_JS, timeout=120_000)
        errors = cell.evaluate(
            "(c) => [...c.querySelectorAll('[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
            ".map(e => e.textContent).filter(t => t.includes('Traceback'))"
        )
        if errors:
            report.problems.append(f"cell {index}: moving the {what} printed a traceback: {errors[0][-300:]}")
            return
