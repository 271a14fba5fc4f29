"""gunicorn's access log keeps no client address or time for the anonymous channel
(incidents/gunicorn_logging.py). Found by an attack: the service blanked its own request log
(the development server's), but gunicorn's access log in production kept both."""

from __future__ import annotations

import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from incidents.gunicorn_logging import AnonymousChannelLogger

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = "198.51.100.23"
FORWARDED = "203.0.113.77"
AGENT = "Mozilla/5.0 (Reporter's phone)"
# gunicorn's default format, plus the forwarded address and the whole environment's address.
FORMAT = ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
          '%({x-forwarded-for}i)s %({remote_addr}e)s')


def _access_line(path: str, caplog) -> str:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", FORMAT)
    logger = AnonymousChannelLogger(config)
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": path, "PATH_INFO": path,
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": ADDRESS, "QUERY_STRING": "",
               "HTTP_USER_AGENT": AGENT, "HTTP_REFERER": "https://stad.example/intranet"}
    request = SimpleNamespace(headers=[("X-FORWARDED-FOR", FORWARDED), ("USER-AGENT", AGENT)])
    response = SimpleNamespace(status="201 CREATED", sent=512, headers=[])
    logger.access_log.propagate = True
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        caplog.clear()
        logger.access(response, request, environ, timedelta(milliseconds=12))
    return caplog.records[-1].getMessage()


@pytest.mark.parametrize("path", ["/api/v1/anonymous-reports",
                                  "/api/v1/anonymous-reports/OP-2026-000123/messages",
                                  "/anonymous/report", "/anonymous/follow"])
def test_the_anonymous_paths_are_logged_without_client_or_time(path, caplog):
    line = _access_line(path, caplog)
    assert path in line and " 201 " in line
    for identifying in (ADDRESS, FORWARDED, AGENT, "stad.example"):
        assert identifying not in line, line
    assert "[-]" in line  # no time


def test_other_paths_keep_gunicorns_usual_line(caplog):
    line = _access_line("/api/v1/incidents", caplog)
    assert ADDRESS in line and FORWARDED in line and AGENT in line


def test_the_committed_gunicorn_config_uses_the_logger():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["logger_class"] == "incidents.gunicorn_logging.AnonymousChannelLogger"
