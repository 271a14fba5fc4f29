"""Browser tests: Chromium (Playwright) against the service served over real HTTP, signing in at a
real OpenID Connect provider (oidc-provider on Node.js).

One browser, one provider and one live server per test session; a new browser context per
test. The live server has a database of its own that nothing rolls back, so the savepoint of
tests/conftest.py is switched off here (db_session) and every test makes data of its own
(live_data). Without node, tests/node/node_modules or Chromium the tests are skipped with the
reason; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mail.smtp import free_port
from tests.web import browser as web
from tests.web.live import (
    CLIENT_ID,
    CLIENT_SECRET,
    INFRA_CALLBACK_PATH,
    LIVE_SECRET,
    POST_LOGOUT_PATHS,
    REDIRECT_PATHS,
    LiveData,
    LiveServer,
    OidcProvider,
    Ports,
    live_config,
    node_problem,
)

CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root (CI containers)
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host name but 127.0.0.1 fails to resolve: a test never reaches the internet, and
    # what a page would have fetched from elsewhere still shows in the request log.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
DEFAULT_TIMEOUT_MS = 10_000


def unavailable(reason: str):
    """A missing tool skips the browser tests here, and fails them under CI=true."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def db_session():
    """The browser's requests are served by the live server on its own database, in other
    threads; the rolled-back savepoint of tests/conftest.py has no place here."""
    yield None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_web_report_{report.when}", report)


# ----------------------------------------------------------------------------------------------
# The servers


@pytest.fixture(scope="session")
def ports() -> Ports:
    """The two ports, reserved up front: the provider must know the service's address (its
    redirect URIs) before the service, which must know the provider, is built."""
    return Ports(service=free_port(), provider=free_port())


@pytest.fixture(scope="session")
def oidc_provider(ports: Ports, tmp_path_factory) -> Iterator[OidcProvider]:
    problem = node_problem()
    if problem:
        unavailable(problem)
    base = ports.service_url
    provider = OidcProvider(
        issuer=ports.provider_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[base + path for path in (*REDIRECT_PATHS, INFRA_CALLBACK_PATH)],
        post_logout_redirect_uris=[base + path for path in POST_LOGOUT_PATHS],
        log_path=tmp_path_factory.mktemp("oidc") / "provider.log",
    )
    try:
        provider.start()
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def live_database(request, tmp_path_factory) -> Iterator[str]:
    """A database of the live server's own: a SQLite file, or a new PostgreSQL database on
    the test server, dropped at the end of the session."""
    from tests.conftest import database_of_its_own

    yield from database_of_its_own(request, tmp_path_factory, "web")


@pytest.fixture(scope="session")
def live_server(
    ports: Ports, oidc_provider: OidcProvider, live_database: str, tmp_path_factory
) -> Iterator[LiveServer]:
    """The service at live_server.url, signing in at oidc_provider, on live_database (migrated)."""
    from flask_migrate import upgrade

    from incidents import create_app
    from incidents.extensions import db

    # create_app reads the environment before the settings given to it: no key or database
    # of the developer's (or of tests/conftest.py's app) may leak in, nor instance/ be written.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", live_database)
        env.setenv("SECRET_KEY", LIVE_SECRET)
        app = create_app(live_config(live_database, ports.service, oidc_provider))
    app.instance_path = str(tmp_path_factory.mktemp("live-instance"))
    with app.app_context():
        upgrade()
    server = LiveServer(app, ports.service, oidc_provider).start()
    try:
        yield server
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_data(live_server: LiveServer) -> LiveData:
    return LiveData(live_server)


# ----------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def browser() -> Iterator:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("playwright is not installed: run `make install`")
    if not web.AXE_JS.is_file():
        unavailable("tests/node/node_modules is missing (axe-core): run `make install`")
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        unavailable(f"no Chromium at {executable} (set CHROMIUM, or `make install` as root)")
    driver = sync_playwright().start()
    try:
        try:
            chromium = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Error as exc:
            unavailable(f"Chromium at {executable} did not start: {exc.message.splitlines()[0]}")
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        driver.stop()


@pytest.fixture
def new_context(browser, ports: Ports) -> Iterator[Callable[..., object]]:
    """new_context(**options): a fresh browser context (its own cookies: another person), in
    Swedish, Stockholm time, 1280 px wide, with relative URLs on the service. Closed after the
    test. Every request it sends is recorded (web.requests_of)."""
    contexts = []

    def make(**options):
        settings = {
            "locale": "sv-SE",
            "timezone_id": "Europe/Stockholm",
            "viewport": dict(web.DESKTOP),
            "base_url": ports.service_url,
            **options,
        }
        context = browser.new_context(**settings)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        web.record_requests(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context, request):
    """A page in the test's context; when the test fails, its screenshot is kept under
    test-screenshots/failed/."""
    page = context.new_page()
    yield page
    report = getattr(request.node, "_web_report_call", None)
    if report is not None and report.failed and not page.is_closed():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            web.screenshot(page, web.SCREENSHOTS / "failed" / f"{name}.png")
        except Exception as exc:  # the page may be gone with the failure
            print(f"no failure screenshot: {exc}")


@pytest.fixture(scope="session")
def check_page(live_server: LiveServer) -> Callable[..., None]:
    """check_page(page, name, *, axe=True): axe-core finds no WCAG 2.1 A/AA violation; at
    320 px the page does not scroll sideways (test-screenshots/<name>-desktop.png and
    -phone.png); the context loaded nothing from outside the service (navigating to the
    provider is allowed)."""

    def check(page, name: str, *, axe: bool = True) -> None:
        web.check_page(page, name, live_server.url, [live_server.provider.issuer], axe=axe)

    return check
