"""The API contract as an integrator meets it: the service served over real HTTP on a database
of its own (a werkzeug server in a thread, as tests/web does), its OpenAPI document as served,
and a Python client generated from that document with openapi-python-client, built and
installed into a temporary directory. Each is made once per session.

The savepoint of tests/conftest.py is switched off here (db_session): the server commits to its
own database in other threads."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT_CONFIG = ROOT / "docs" / "clients" / "openapi-python-client.yaml"
NODE_DIR = ROOT / "tests" / "node"
LIVE_SECRET = "contract-live-server-secret-key-0123456789abcdef"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def db_session():
    """The requests are served by the live server on its own database, in other threads."""
    yield None


@dataclass
class LiveApi:
    app: Any
    url: str

    def get(self, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path)  # noqa: S310 - http://127.0.0.1
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()

    def cli(self, *args: str) -> str:
        """A flask command on the server's database (users add, tokens issue), its output."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output.strip()


@pytest.fixture(scope="session")
def contract_database(request, tmp_path_factory) -> Iterator[str]:
    from tests.conftest import database_of_its_own

    yield from database_of_its_own(request, tmp_path_factory, "contract")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def live_api(contract_database, tmp_path_factory) -> Iterator[LiveApi]:
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from incidents import create_app
    from incidents.extensions import db

    port = _free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", contract_database)
        env.setenv("SECRET_KEY", LIVE_SECRET)
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": contract_database,
            "SECRET_KEY": LIVE_SECRET,
            "TESTING": False,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        })
    app.instance_path = str(tmp_path_factory.mktemp("contract-instance"))
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="contract-server", daemon=True)
    thread.start()
    try:
        yield LiveApi(app=app, url=f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def document(live_api) -> dict:
    """The OpenAPI document as the service serves it."""
    status, _, body = live_api.get("/api/v1/openapi.json")
    assert status == 200
    return json.loads(body)


@pytest.fixture(scope="session")
def document_file(document, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A command with the venv's tools first on PATH (the generator runs ruff on its output)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=300, check=False, **kwargs)


@pytest.fixture(scope="session")
def generated_client(document_file, tmp_path_factory):
    """The package openapi-python-client generates from the served document with the committed
    configuration (the commands of docs/integrating.md), built with pip into a directory of its
    own and imported from there. Any warning of the generator fails."""
    work = tmp_path_factory.mktemp("generated")
    generated = run([str(BIN / "openapi-python-client"), "generate",
                     "--path", str(document_file), "--config", str(CLIENT_CONFIG),
                     "--output-path", str(work / "incidents-api-client")])
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(line.startswith("Generating ") for line in lines), output
    target = work / "site"
    installed = run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                     "--no-build-isolation", "--no-index", "--target", str(target),
                     str(work / "incidents-api-client")])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    sys.path.insert(0, str(target))
    try:
        yield importlib.import_module("incidents_api_client")
    finally:
        sys.path.remove(str(target))
        for name in [n for n in sys.modules if n.split(".")[0] == "incidents_api_client"]:
            del sys.modules[name]
        shutil.rmtree(work, ignore_errors=True)
