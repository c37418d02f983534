"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts.

STARTTLS (required before anything else, as a submission server on port 587 does) or implicit
TLS (SMTPS, as on port 465), with the sandbox's CA; AUTH PLAIN/LOGIN required before MAIL
(`credentials`, only over TLS). Tests read `received` (envelope, raw bytes, parsed message) and
script the server's replies:

- `fail(phase, code, text, times=1)`: the next MAIL, RCPT or DATA answers `code text`
  (a 451 defers, a 550/554 refuses);
- `unknown_mailboxes`: RCPT TO one of them answers 550 5.1.1;
- `lose_answer_after_data(times=1)`: the message is kept and the connection is cut before the
  250, so the client cannot know it arrived (the unknown outcome).
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sandbox.tls import LocalTLS

# aiosmtpd sets its own deprecated Session.login_data after every successful AUTH, which warns
# on each login from its server thread; nothing of ours uses it.
warnings.filterwarnings(
    "ignore", message="Session.login_data is deprecated", category=DeprecationWarning
)

# aiosmtpd logs every session a client ends badly (a refused certificate, a cut connection:
# what the channel tests cause on purpose) with a traceback, from its server thread, through
# whatever handler the root logger has then; kept to aiosmtpd's own logger.
_SERVER_LOG = logging.getLogger("mail.log")
_SERVER_LOG.addHandler(logging.NullHandler())
_SERVER_LOG.propagate = False

USERNAME = "escalation-sync"
PASSWORD = "sandbox-smtp-password"
Phase = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None  # the AUTH user, None when none
    tls: bool  # whether the session was encrypted
    received_at: float

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _ScriptedReply:
    phase: Phase
    reply: str
    times: int
    lose_connection: bool = False


@dataclass
class _Handler:
    """aiosmtpd's hooks: record, or answer as scripted."""

    owner: SMTPSandbox
    tls_mode: str

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        scripted = self.owner._take("MAIL")
        if scripted is not None:
            return scripted.reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        scripted = self.owner._take("RCPT")
        if scripted is not None:
            return scripted.reply
        if address.lower() in self.owner.unknown_mailboxes:
            return "550 5.1.1 Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        scripted = self.owner._take("DATA")
        if scripted is not None and not scripted.lose_connection:
            return scripted.reply
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        encrypted = self.tls_mode == "tls" or session.ssl is not None
        mail = ReceivedMail(
            str(envelope.mail_from),
            tuple(envelope.rcpt_tos),
            bytes(envelope.original_content or envelope.content or b""),
            login.decode() if isinstance(login, bytes) else login,
            encrypted,
            time.time(),
        )
        with self.owner.lock:
            self.owner.received.append(mail)
        if scripted is not None:  # kept, and the answer never leaves
            server.transport.abort()
            return "250 OK"
        return "250 Message accepted for delivery"


class _BoundController(Controller):
    """aiosmtpd's Controller on a socket bound beforehand to a free port of 127.0.0.1."""

    def __init__(
        self, handler: Any, sock: socket.socket, implicit_tls: bool = False, **kwargs: Any
    ):
        self._sock = sock
        self._implicit_tls = implicit_tls
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)

    def factory(self) -> SMTP:
        smtp = super().factory()
        if self._implicit_tls:
            # The whole session is TLS (SMTPS), which aiosmtpd does not count as TLS: it only
            # knows STARTTLS, and would refuse AUTH "for want of encryption".
            smtp._auth_require_tls = False
        return smtp

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SMTPSandbox:
    """One SMTP server in one TLS mode ("starttls" or "tls")."""

    def __init__(
        self,
        tls: LocalTLS,
        mode: Literal["starttls", "tls"] = "starttls",
        credentials: dict[str, str] | None = None,
    ):
        self.tls = tls
        self.mode = mode
        self.credentials = dict(credentials or {USERNAME: PASSWORD})
        self.received: list[ReceivedMail] = []
        self.unknown_mailboxes: set[str] = {"nobody@acme.example"}
        self.lock = threading.Lock()
        self.logins_refused = 0
        self._scripted: list[_ScriptedReply] = []
        self._controller: _BoundController | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # -- scripting ------------------------------------------------------------------------
    def fail(self, phase: Phase, code: int, text: str = "", times: int = 1) -> None:
        words = text or ("Try again later" if code < 500 else "Refused")
        with self.lock:
            self._scripted.append(_ScriptedReply(phase, f"{code} {words}", times))

    def lose_answer_after_data(self, times: int = 1) -> None:
        with self.lock:
            self._scripted.append(_ScriptedReply("DATA", "", times, lose_connection=True))

    def _take(self, phase: Phase) -> _ScriptedReply | None:
        with self.lock:
            for scripted in self._scripted:
                if scripted.phase == phase:
                    scripted.times -= 1
                    if scripted.times <= 0:
                        self._scripted.remove(scripted)
                    return scripted
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            if self.credentials.get(user) == auth_data.password.decode("utf-8", "replace"):
                return AuthResult(success=True, auth_data=auth_data)
        with self.lock:
            self.logins_refused += 1
        return AuthResult(success=False, handled=False)

    def reset(self) -> None:
        """Nothing received, nothing scripted, the default login and unknown mailbox."""
        with self.lock:
            self.received.clear()
            self._scripted.clear()
            self.unknown_mailboxes = {"nobody@acme.example"}
            self.credentials = {USERNAME: PASSWORD}
            self.logins_refused = 0

    # -- what tests read ------------------------------------------------------------------
    def messages_to(self, address: str) -> list[ReceivedMail]:
        wanted = address.lower()
        with self.lock:
            return [m for m in self.received if wanted in (r.lower() for r in m.rcpt_tos)]

    # -- serving --------------------------------------------------------------------------
    def start(self) -> SMTPSandbox:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        context = self.tls.server_context()
        smtp_options: dict[str, Any] = {
            "authenticator": self._authenticate,
            "auth_required": True,
            "server_hostname": "sandbox-smtp.localhost",
        }
        if self.mode == "tls":
            tls_options: dict[str, Any] = {"ssl_context": context}
        else:
            tls_options = {"tls_context": context, "require_starttls": True}
        self._controller = _BoundController(
            _Handler(self, self.mode),
            sock,
            implicit_tls=self.mode == "tls",
            **tls_options,
            **smtp_options,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
