"""Every kind of email as a person sees it: headless Chromium at phone (420 px) and desktop
(1200 px) width, no horizontal scrolling and text on the page, screenshots in the test's temp
dir (the path is printed with -s). Chromium comes from Debian (`.ci/run` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notify.queue import OwnerQueue
from notify.render import render_owner_email
from tests.conftest import DemoRun
from tests.mail_browser import Browser, chromium_path
from tests.notify_fixtures import AS_OF, html_part
from tests.notify_samples import render_all, sample_emails
from tests.test_notify_size import longest_items

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (apt-get install chromium)"
)
WIDTHS = (420, 1200)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def check(browser: Browser, html: str, name: str, out: Path, must_show: str) -> None:
    for width in WIDTHS:
        view = browser.view(html, width, out / f"{name}-{width}.png")
        assert not view.scrolls_sideways, (name, width, view.scroll_width, view.inner_width)
        assert view.inner_width == width
        assert must_show in view.text and len(view.text) > 200, name
        assert view.screenshot.stat().st_size > 2000
    print(f"screenshots: {out}")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_email_kind_fits_phone_and_desktop(browser, tmp_path, language) -> None:
    for kind, email in render_all(language).items():
        must_show = "ops" if kind == "ops" else ("张伟" if language == "zh" else "Alice Smith")
        check(browser, email.html, f"{language}-{kind}", tmp_path, must_show)


def test_longest_unbreakable_values_wrap_instead_of_scrolling(browser, tmp_path) -> None:
    items = [i for i in longest_items("张伟") if i.lead_key != "huge"][:12]
    for language in ("zh", "en"):
        html = render_owner_email(
            OwnerQueue("张伟", "z@example.com", language, tuple(items)),
            AS_OF,
            ZoneInfo("Asia/Shanghai"),
        ).html
        check(browser, html, f"longest-{language}", tmp_path, "张伟")


def test_the_demo_run_emails_fit_phone_and_desktop(browser, tmp_path, demo_run: DemoRun) -> None:
    emls = sorted(demo_run.outbox.rglob("*.eml"))
    assert emls
    for path in emls:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        name = msg["To"].addresses[0].display_name
        check(browser, html_part(msg), path.stem, tmp_path, name)


def test_docs_screenshots_render(browser, tmp_path) -> None:
    """What docs/mail.md shows (`python -m tests.mail_browser docs/images` rewrites them)."""
    for name, html in sample_emails().items():
        view = browser.view(html, 420, tmp_path / f"{name}.png")
        assert not view.scrolls_sideways and view.height < 2600, name
