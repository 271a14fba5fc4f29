"""The two servers a browser test talks to: the OpenID Connect provider (node, a process of its
own) and the service (a werkzeug server in a thread of the test process, on a database of its
own), and LiveData to put people and units into that database."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.web.browser import NODE_DIR

PROVIDER_JS = NODE_DIR / "oidc_provider.mjs"
CLIENT_ID = "incidents-web"
CLIENT_SECRET = "incidents-web-test-secret-0123456789abcdef"
LIVE_SECRET = "live-server-secret-key-for-browser-tests-0123456789"

# Where the provider may send the browser back to, on the service (exact matches). The
# service's callback, and a path of test_infrastructure's own that never reaches the service.
REDIRECT_PATHS = ("/signin/callback",)
INFRA_CALLBACK_PATH = "/__infrastructure-test__/callback"
POST_LOGOUT_PATHS = ("/signed-out", "/")

START_SECONDS = 20


@dataclass(frozen=True)
class Ports:
    service: int
    provider: int

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service}"

    @property
    def provider_url(self) -> str:
        return f"http://127.0.0.1:{self.provider}"


def node_problem() -> str | None:
    """Why the provider cannot start here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (the OpenID Connect provider of the tests runs on Node.js)"
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        return "tests/node/node_modules is missing: run `make install` (npm ci --prefix tests/node)"
    return None


def get_json(url: str, timeout: float = 2) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http://127.0.0.1
        return json.load(response)


@dataclass
class OidcProvider:
    """oidc-provider running with one client: ours."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    discovery: dict[str, Any] = field(default_factory=dict)

    @property
    def jwks_uri(self) -> str:
        return self.discovery["jwks_uri"]

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> OidcProvider:
        port = self.issuer.rsplit(":", 1)[1]
        env = {
            **os.environ,
            "OIDC_PORT": port,
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_REDIRECT_URIS": ",".join(self.redirect_uris),
            "OIDC_POST_LOGOUT_REDIRECT_URIS": ",".join(self.post_logout_redirect_uris),
            "NODE_ENV": "development",
            "OIDC_EXIT_WITH_STDIN": "1",
            "NO_COLOR": "1",
        }
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(node_problem())
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [node, str(PROVIDER_JS)], cwd=NODE_DIR, env=env,
                # Its stdin closes when this process ends, however it ends: node exits then.
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"the OpenID Connect provider exited with {self.process.returncode}:\n"
                    + self.log()
                )
            try:
                self.discovery = get_json(self.discovery_url)
                return self
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"the OpenID Connect provider did not answer {self.discovery_url} within "
            f"{START_SECONDS} s:\n{self.log()}"
        )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.stdin:
            self.process.stdin.close()
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class LiveServer:
    """The service, served over real HTTP by werkzeug in a thread of the test process."""

    def __init__(self, app, port: int, provider: OidcProvider):
        from werkzeug.serving import make_server

        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.provider = provider
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="live-server", daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    @contextlib.contextmanager
    def app_context(self) -> Iterator[Any]:
        """An application context of the live app; yields its database session. What is
        committed in it is committed for real, and the browser sees it."""
        from incidents.extensions import db

        with self.app.app_context():
            try:
                yield db.session
            except BaseException:
                db.session.rollback()
                raise


@dataclass(frozen=True)
class LiveUnit:
    id: int
    name: str
    kind: str
    parent_id: int | None


@dataclass(frozen=True)
class LiveUser:
    id: int
    email: str
    name: str
    roles: tuple[str, ...]
    unit_id: int | None
    leads_unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class LiveIncident:
    id: int
    reference: str


_seq = itertools.count(1)


class LiveData:
    """Units, people and incidents committed in the live server's database (tests.factories'
    builders, for a database no test rolls back: give every test names of its own)."""

    def __init__(self, live_server: LiveServer):
        self.live_server = live_server

    @staticmethod
    def email(stem: str = "person") -> str:
        """An address no other test of the run has used."""
        return f"{stem}-{next(_seq)}-{os.getpid()}@stad.example"

    def unit(self, name: str, parent: LiveUnit | None = None, kind: str = "enhet") -> LiveUnit:
        from incidents.models import Unit

        with self.live_server.app_context() as session:
            unit = Unit(name=name, kind=kind, parent_id=parent and parent.id)
            session.add(unit)
            session.commit()
            return LiveUnit(unit.id, unit.name, unit.kind, unit.parent_id)

    def user(
        self,
        email: str,
        *roles: str,
        unit: LiveUnit | None = None,
        leads: tuple[LiveUnit, ...] = (),
        reach: tuple[LiveUnit, ...] | None = None,
        name: str | None = None,
        active: bool = True,
    ) -> LiveUser:
        """A person who signs in with `email` at the provider; roles default to employee. hr,
        statistics_reader and admin are held for ``reach`` (default: the organisation of their
        unit; without a unit, every root there is now; the live database holds many tests'
        organisations)."""
        from sqlalchemy import select

        from incidents.domain import ASSIGNED_ROLES
        from incidents.models import Unit, UnitAssignment, UnitLeader, User, UserRole

        with self.live_server.app_context() as session:
            user = User(
                email=email.lower(),
                name=name or email.split("@")[0].replace(".", " ").title(),
                unit_id=unit and unit.id,
                active=active,
            )
            user.role_rows = [UserRole(role=r) for r in (roles or ("employee",))]
            user.leadership_rows = [UnitLeader(unit_id=u.id) for u in leads]
            if reach is not None:
                held = [u.id for u in reach]
            elif unit is not None:  # the organisation of their own unit
                top = session.get(Unit, unit.id)
                while top.parent_id is not None:
                    top = session.get(Unit, top.parent_id)
                held = [top.id]
            else:
                held = list(session.scalars(select(Unit.id).where(Unit.parent_id.is_(None))))
            user.assignment_rows = [UnitAssignment(role=r, unit_id=u)
                                    for r in dict.fromkeys(roles)
                                    if r in {a.value for a in ASSIGNED_ROLES} for u in held]
            session.add(user)
            session.commit()
            return LiveUser(
                user.id, user.email, user.name, tuple(user.roles), user.unit_id,
                tuple(user.leads_unit_ids),
            )

    def incident(self, reporter: LiveUser, unit: LiveUnit, **overrides: Any) -> LiveIncident:
        """An incident reported by `reporter` through the service's own reporting code."""
        from incidents.extensions import db
        from incidents.models import User
        from incidents.services import reporting

        data = {
            "category": "threat",
            "perceived_influence_purpose": "yes",
            "occurred_at": datetime.now(UTC) - timedelta(hours=2),
            "unit_id": unit.id,
            "description": "The client said he knows where I live.",
            **overrides,
        }
        with self.live_server.app_context() as session:
            incident = reporting.report_incident(db.session.get(User, reporter.id), data)
            session.commit()
            return LiveIncident(incident.id, incident.reference)


def live_config(database_url: str, port: int, provider: OidcProvider) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": LIVE_SECRET,
        "TESTING": False,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_AUDIENCE": provider.client_id,
        "OIDC_JWKS_URL": provider.jwks_uri,
        "DEV_SIGNIN": False,
    }


