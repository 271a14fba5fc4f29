"""A real SMTP server for the mail tests (aiosmtpd on localhost), that can be down, refuse, or
be slow on purpose."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collector:
    """The server's handler: keeps every accepted message; can refuse recipients or dawdle."""

    def __init__(self):
        self.messages: list[Message] = []
        self.refuse_with: str | None = None  # e.g. "550 5.1.1 no such user"
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """Down until started; start() and stop() may be called again and again on one port."""

    def __init__(self, port: int | None = None, login: tuple[str, str] | None = None):
        self.port = port or free_port()
        self.handler = Collector()
        self.login = login  # when set, the server requires AUTH with this user and password
        self.logins: list[str] = []
        self._controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if (user, password) == self.login:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    def start(self) -> SmtpServer:
        auth = {}
        if self.login:
            # Plain-text AUTH on localhost only, for the test; production uses TLS.
            auth = {"authenticator": self._authenticate, "auth_required": True,
                    "auth_require_tls": False}
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                      **auth)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.05)
        return len(self.messages) >= count
