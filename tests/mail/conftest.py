from __future__ import annotations

import pytest

from tests.mail.smtp import SmtpServer


@pytest.fixture
def smtp_down(app, monkeypatch):
    """A mail server configured but not (yet) running; ``.start()`` brings it up."""
    server = SmtpServer()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
    monkeypatch.setitem(app.config, "MAIL_FROM", "otillaten-paverkan@stad.example")
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down):
    return smtp_down.start()
