"""What the browser tests do to a page: check it (axe-core, phone width, screenshots, nothing
loaded from elsewhere) and sign in through the real OpenID Connect provider."""

from __future__ import annotations

import os
import re
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser fixture skips the tests and says why
    PlaywrightTimeout = TimeoutError

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Request

    from tests.web.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
AXE_JS = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-screenshots"

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}

# The service's sign-in page: a button (or link) with this accessible name starts the flow.
SIGN_IN = re.compile(r"Logga in|Sign in", re.I)
# The provider's development login form takes any password.
ANY_PASSWORD = "any password will do"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# ----------------------------------------------------------------------------------------------
# What a context loaded


@dataclass(frozen=True)
class Loaded:
    url: str
    resource_type: str
    navigation: bool
    # The document the request came from (its frame's URL when it was sent).
    document: str


class RequestLog:
    """Every request a browser context sent, in order, with the document that sent it."""

    def __init__(self) -> None:
        self.requests: list[Loaded] = []

    def record(self, request: Request) -> None:
        try:
            document = request.frame.url
        except Exception:  # a service worker's request has no frame
            document = ""
        self.requests.append(
            Loaded(request.url, request.resource_type, request.is_navigation_request(), document)
        )

    def urls(self) -> list[str]:
        return [loaded.url for loaded in self.requests]

    def foreign(self, service: str, navigable: Iterable[str] = ()) -> list[Loaded]:
        """What the service's pages loaded from anywhere but the service, and navigations to
        anywhere but the service and the origins in `navigable` (the OpenID provider)."""
        home = origin(service)
        allowed = {home, *(origin(url) for url in navigable)}
        found = []
        for loaded in self.requests:
            if loaded.url.startswith(("data:", "blob:", "about:")):
                continue
            if loaded.navigation:
                if origin(loaded.url) not in allowed:
                    found.append(loaded)
            elif origin(loaded.document) == home and origin(loaded.url) != home:
                found.append(loaded)
        return found


_LOGS: weakref.WeakKeyDictionary[BrowserContext, RequestLog] = weakref.WeakKeyDictionary()


def record_requests(context: BrowserContext) -> RequestLog:
    """Start recording what the context loads (the context fixtures do this for every context)."""
    log = _LOGS.get(context)
    if log is None:
        log = _LOGS[context] = RequestLog()
        context.on("request", log.record)
    return log


def requests_of(page_or_context: Page | BrowserContext) -> RequestLog:
    """The log of every request the page's context sent so far."""
    context = getattr(page_or_context, "context", page_or_context)
    try:
        return _LOGS[context]
    except KeyError:
        raise LookupError("this context was not made by the context fixtures") from None


def assert_same_origin(page: Page, service: str, navigable: Iterable[str] = ()) -> None:
    """The context loaded nothing from outside `service`: no file for the service's pages from
    elsewhere, and no navigation to anywhere but the service and `navigable`."""
    foreign = requests_of(page).foreign(service, navigable)
    assert not foreign, f"the pages loaded from outside {origin(service)}:\n" + "\n".join(
        f"  {loaded.resource_type:<10} {loaded.url}  (from {loaded.document or '?'})"
        for loaded in foreign
    )


# ----------------------------------------------------------------------------------------------
# axe-core


def axe_violations(page: Page, tags: Iterable[str] = WCAG_TAGS) -> list[dict]:
    """axe-core's violations on the page as it is now, for the WCAG 2.1 A and AA rules.

    axe is evaluated through the DevTools protocol rather than added as a <script>: the
    service's Content-Security-Policy rightly refuses inline scripts, and the test must not
    switch that policy off (bypass_csp) to look at the page.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate("() => {\n" + AXE_JS.read_text(encoding="utf-8") + "\n}")
    return page.evaluate(
        """(tags) => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        }).then((results) => results.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            targets: v.nodes.map((node) => node.target.join(' ')),
        })))""",
        list(tags),
    )


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {target}" for target in violation["targets"][:10])
        if len(violation["targets"]) > 10:
            lines.append(f"    … and {len(violation['targets']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, (
        f"axe-core found {len(violations)} WCAG 2.1 A/AA violation(s) on {page.url}:\n"
        + describe_violations(violations)
    )


# ----------------------------------------------------------------------------------------------
# Widths and screenshots


def screenshot(page: Page, path: Path) -> None:
    """A full-page screenshot, written whole or not at all (the SQLite and PostgreSQL runs may
    run side by side and write the same names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = page.screenshot(full_page=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".png.part")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def horizontal_overflow(page: Page) -> tuple[int, int]:
    """(scrollWidth, innerWidth) of the page as it is laid out now."""
    return tuple(
        page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    )


def check_widths(page: Page, name: str) -> None:
    """Screenshots at 1280 and 320 px; at 320 px nothing may scroll sideways (WCAG 1.4.10)."""
    before = page.viewport_size
    try:
        page.set_viewport_size(DESKTOP)
        screenshot(page, SCREENSHOTS / f"{name}-desktop.png")
        page.set_viewport_size(PHONE)
        scroll_width, inner_width = horizontal_overflow(page)
        screenshot(page, SCREENSHOTS / f"{name}-phone.png")
        assert scroll_width <= inner_width, (
            f"{page.url} scrolls sideways at {PHONE['width']} px: the page is {scroll_width} px "
            f"wide (screenshot: test-screenshots/{name}-phone.png)"
        )
    finally:
        if before:
            page.set_viewport_size(before)


def check_page(
    page: Page, name: str, service: str, navigable: Iterable[str] = (), *, axe: bool = True
) -> None:
    """Everything every page must pass: axe-core finds no WCAG 2.1 A/AA violation, the page
    does not scroll sideways at 320 px (screenshots at both widths under test-screenshots/),
    and the context loaded nothing from outside the service."""
    if axe:
        assert_accessible(page)
    check_widths(page, name)
    assert_same_origin(page, service, navigable)


# ----------------------------------------------------------------------------------------------
# Signing in


def sign_in(
    page: Page,
    live_server: LiveServer,
    email: str,
    password: str = ANY_PASSWORD,
    *,
    must_succeed: bool = True,
) -> None:
    """Sign in as a person would: the service's sign-in page, its button, the provider's login
    form (any password), and back on the service. The provider grants consent by itself.

    If the provider still has a session in this context it sends the browser straight back
    without its form; that is fine as long as it is the same person (use a new context for
    another person). With must_succeed=False the page is left wherever the service put it
    (e.g. its "not registered" page) instead of failing there.
    """
    issuer = live_server.provider.issuer
    service = live_server.url

    def on_service(url: str) -> bool:
        return origin(url) == origin(service)

    def signing_in(url: str) -> bool:
        return on_service(url) and urlsplit(url).path.startswith("/signin")

    page.goto(f"{service}/signin")
    try:
        if signing_in(page.url):
            button = page.get_by_role("button", name=SIGN_IN)
            if button.count() == 0:
                button = page.get_by_role("link", name=SIGN_IN)
            button.first.click()
            page.wait_for_url(
                lambda url: url.startswith(f"{issuer}/interaction/")
                or (on_service(url) and not signing_in(url))
            )
        if page.url.startswith(f"{issuer}/interaction/"):
            page.locator("input[name=login]").fill(email)
            page.locator("input[name=password]").fill(password)
            page.locator("button[type=submit]").click()
            page.wait_for_url(on_service)
    except PlaywrightTimeout as exc:
        raise AssertionError(f"signing in as {email} stalled: {_where(page)}") from exc
    if must_succeed:
        assert not signing_in(page.url), f"signing in as {email} did not succeed: {_where(page)}"


def sign_out_at_provider(page: Page, live_server: LiveServer) -> None:
    """After the service's sign-out has sent the browser to the provider's end_session page:
    confirm there ("Yes, sign me out") and wait until the provider sends it back."""
    issuer = live_server.provider.issuer
    try:
        page.wait_for_url(f"{issuer}/session/end**")
        page.get_by_role("button", name="Yes, sign me out").click()
        page.wait_for_url(lambda url: origin(url) == origin(live_server.url))
    except PlaywrightTimeout as exc:
        raise AssertionError(f"signing out at the provider stalled: {_where(page)}") from exc


def _where(page: Page) -> str:
    try:
        text = " ".join(page.locator("body").inner_text(timeout=2000).split())
    except Exception:  # the page may be mid-navigation
        text = "?"
    return f"on {page.url}: {text[:400]}"
