"""Look at an email as a person would: headless Chromium (Debian's `chromium`) at a given width.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages separated by NUL on file descriptors 3 and 4), so no driver or extra package is needed.
The viewport is set with Emulation.setDeviceMetricsOverride: a desktop window cannot be narrower
than 500 px, so `--window-size=420,…` with `--dump-dom` measures a 500 px page (tried).

`python -m tests.mail_browser OUT_DIR` renders the sample emails (tests/notify_samples.py) in
both languages and writes their screenshots; docs/mail.md shows two of them.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 60
# What the page reports: how wide its content is against the viewport, and what it says.
_MEASURE = """JSON.stringify({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    scrollHeight: document.documentElement.scrollHeight,
    text: document.body ? document.body.innerText : ""
})"""


def chromium_path() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class PageView:
    width: int
    scroll_width: int  # the content's width: more than `width` means horizontal scrolling
    inner_width: int
    height: int
    text: str  # what a reader sees (innerText)
    screenshot: Path

    @property
    def scrolls_sideways(self) -> bool:
        return self.scroll_width > self.inner_width


class Browser:
    """One headless Chromium, reused for many pages; use as a context manager."""

    def __init__(self, executable: str | None = None) -> None:
        executable = executable or chromium_path()
        if executable is None:
            raise RuntimeError("no chromium found (apt-get install chromium)")
        self._profile = tempfile.mkdtemp(prefix="leadflow-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The child's ends move above fd 9 first: were one of them 3 or 4 (pytest's capture holds
        # low fds), the redirections below would overwrite it before it is read.
        to_browser_r, from_browser_w = (_high_fd(fd) for fd in (to_browser_r, from_browser_w))
        flags = [
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={self._profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # fds 3 and 4 are where Chromium expects the pipe; the shell puts them there.
        command = " ".join(["exec", _quote(executable), *map(_quote, flags)])
        command += f" 3<&{to_browser_r} 4>&{from_browser_w}"
        self._process = subprocess.Popen(
            ["bash", "-c", command],  # bash: dash's redirections take single-digit fds only
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = bytearray()
        self._events: list[dict] = []  # arrived while waiting for a reply
        self._next_id = 0
        self._session: str | None = None
        try:
            self._attach()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def view(self, html: str, width: int, screenshot: Path, *, height: int = 800) -> PageView:
        """Open `html` at `width` CSS pixels, measure it and save a full-page screenshot."""
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page = screenshot.with_suffix(".html")
        page.write_text(html, encoding="utf-8")
        self._command(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self._events.clear()
        self._command("Page.navigate", {"url": page.resolve().as_uri()})
        self._wait_for("Page.loadEventFired")
        reply = self._command("Runtime.evaluate", {"expression": _MEASURE, "returnByValue": True})
        measured = json.loads(reply["result"]["value"])
        full_height = max(int(measured["scrollHeight"]), 1)
        clip = {"x": 0, "y": 0, "width": width, "height": full_height, "scale": 1}
        shot = self._command(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return PageView(
            width=width,
            scroll_width=int(measured["scrollWidth"]),
            inner_width=int(measured["innerWidth"]),
            height=full_height,
            text=measured["text"],
            screenshot=screenshot,
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page last opened with `view`."""
        reply = self._command("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return reply["result"].get("value")

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._send("Browser.close", {}, session=None)
                self._process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    # ----------------------------------------------------------------------- the protocol

    def _attach(self) -> None:
        targets = self._command("Target.getTargets", {}, session=None)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        attached = self._command(
            "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, session=None
        )
        self._session = attached["sessionId"]
        self._command("Page.enable", {})

    def _send(self, method: str, params: dict, *, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _command(self, method: str, params: dict, *, session: str | None | bool = True) -> dict:
        """Send a command (to the page's session unless `session` is None) and wait for its
        reply; events that arrive meanwhile are kept for `_wait_for`."""
        wanted = self._send(method, params, session=self._session if session is True else None)
        while True:
            message = self._receive()
            if message.get("id") != wanted:
                if "method" in message:
                    self._events.append(message)
                continue
            if "error" in message:
                raise RuntimeError(f"chromium {method}: {message['error']}")
            return message.get("result", {})

    def _wait_for(self, event: str) -> dict:
        while True:
            while self._events:
                message = self._events.pop(0)
                if message.get("method") == event:
                    return message.get("params", {})
            self._events.append(self._receive())

    def _receive(self) -> dict:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"chromium sent nothing for {TIMEOUT_SECONDS} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        end = self._buffer.index(b"\0")
        message = json.loads(bytes(self._buffer[:end]))
        del self._buffer[: end + 1]
        return message


def _high_fd(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def main(argv: list[str]) -> int:
    """Write screenshots of the fixture emails (zh and en) at 420 px into argv[0]."""
    from tests.notify_samples import sample_emails

    out = Path(argv[0]) if argv else Path("mail-screenshots")
    with Browser() as browser:
        for name, html in sample_emails().items():
            view = browser.view(html, 420, out / f"{name}.png")
            view.screenshot.with_suffix(".html").unlink()  # the page was only for the browser
            print(f"{view.screenshot} ({view.height} px high)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
