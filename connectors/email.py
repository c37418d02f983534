"""E-mail through an SMTP submission server (smtplib): STARTTLS or implicit TLS, AUTH, MIME.

The connection is opened at the first message and kept for the run (one TLS handshake and one
login per run, not per message); a server that dropped an idle connection is reconnected once
before anything of the next message was sent. Mail never goes in clear: a server that does not
offer STARTTLS is a setup error, and the certificate is verified (the system store or the
configured `ca_bundle`) with the host name checked.

Each message is multipart/alternative (text, and HTML when given) with a Message-ID derived from
the outbox key, so a message sent again (after an UNKNOWN outcome) is recognisable as the same.

Replies: 4xx RETRY, 5xx REJECTED for a recipient (RCPT) or the message (DATA); a refused login
or sender is the channel's setup (RETRY, "channel setup:"). A connection lost after the DATA
command is UNKNOWN: the server may have taken the message and its "250" was lost; before that
(MAIL, RCPT) nothing is delivered yet and it is RETRY.
"""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, parseaddr
from typing import TYPE_CHECKING

from connectors.channels import SETUP, Message, SendResult, SendStatus
from connectors.retry import certificate_problem

if TYPE_CHECKING:
    from config.notifications_schema import EmailChannelSettings

KEY_HEADER = "X-Escalation-Key"  # the outbox key in clear, for filters and support


def message_id(key: str, domain: str) -> str:
    """The Message-ID of the notification with outbox key `key`: the same for every resend."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<escalation.{digest}@{domain}>"


def build_mime(
    message: Message, sender: str, domain: str, reply_to: str | None = None
) -> EmailMessage:
    """The MIME message: text part, and an HTML alternative when the message has one."""
    mime = EmailMessage(policy=SMTP_POLICY)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    mime["Message-ID"] = message_id(message.key, domain)
    mime[KEY_HEADER] = message.key
    if reply_to:
        mime["Reply-To"] = reply_to
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    return mime


def _reply_status(code: int) -> SendStatus:
    return SendStatus.RETRY if 400 <= code < 500 else SendStatus.REJECTED


def _said(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"SMTP {code} {' '.join(words.split())}"


class _Failed(Exception):
    def __init__(self, status: SendStatus, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class EmailChannel:
    """One SMTP server, one sender; the connection is kept between messages."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        tls: str,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        message_id_domain: str | None = None,
        reply_to: str | None = None,
    ):
        if tls not in ("starttls", "tls"):
            raise ValueError(f"tls must be 'starttls' or 'tls', not {tls!r}")
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls
        self.sender = sender
        self.reply_to = reply_to
        self._login = (username, password) if username and password else None
        self._context = ssl.create_default_context(cafile=ca_bundle)
        self._timeout = timeout
        self.envelope_sender = parseaddr(sender)[1]
        self.domain = message_id_domain or self.envelope_sender.rpartition("@")[2]
        self._smtp: smtplib.SMTP | None = None
        # A setup failure (login refused, certificate not trusted, no STARTTLS) ends the run's
        # sends: logging in again per message could lock the account.
        self._setup_failure: str | None = None

    def send(self, message: Message) -> SendResult:
        """Submit one message; one SendResult, never an exception."""
        mime = build_mime(message, self.sender, self.domain, self.reply_to)
        mid = str(mime["Message-ID"])
        if self._setup_failure is not None:
            return SendResult(message.key, SendStatus.RETRY, self._setup_failure, mid)
        try:
            self._submit(message.to, mime)
        except _Failed as failed:
            if failed.detail.startswith(SETUP):
                self._setup_failure = failed.detail
            return SendResult(message.key, failed.status, failed.detail, mid)
        return SendResult(message.key, SendStatus.SENT, "accepted", mid)

    def check_connection(self) -> str | None:
        """Connect, TLS, log in and QUIT, sending nothing (doctor): None, or what failed."""
        try:
            self._connection()
        except _Failed as failed:
            return failed.detail.removeprefix(SETUP)
        finally:
            self.close()
        return None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # closing anyway; nothing is lost
            self._drop_connection()

    # -- the SMTP conversation ------------------------------------------------------------
    def _submit(self, recipient: str, mime: EmailMessage) -> None:
        smtp, code, text = self._mail_from()
        if code != 250:
            self._reset(smtp)
            if 400 <= code < 500:
                raise _Failed(SendStatus.RETRY, "sender deferred: " + _said(code, text))
            raise _Failed(SendStatus.RETRY, f"{SETUP}sender refused: {_said(code, text)}")
        try:
            code, text = smtp.rcpt(parseaddr(recipient)[1] or recipient)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop_connection()
            raise _Failed(SendStatus.RETRY, f"SMTP connection lost at RCPT ({error})") from None
        if code not in (250, 251):
            self._reset(smtp)
            raise _Failed(_reply_status(code), "recipient refused: " + _said(code, text))
        try:
            code, text = smtp.data(mime.as_bytes())
        except smtplib.SMTPDataError as error:  # the DATA command itself was refused
            self._reset(smtp)
            raise _Failed(
                _reply_status(error.smtp_code), _said(error.smtp_code, error.smtp_error)
            ) from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop_connection()
            raise _Failed(
                SendStatus.UNKNOWN,
                f"SMTP connection lost after DATA ({type(error).__name__}); the server may "
                "have taken the message, not resent automatically",
            ) from None
        if code != 250:
            self._reset(smtp)
            raise _Failed(_reply_status(code), _said(code, text))

    def _mail_from(self) -> tuple[smtplib.SMTP, int, bytes]:
        """MAIL FROM on the kept connection; once more on a new one if the server closed it."""
        for attempt in (1, 2):
            kept = self._smtp is not None
            smtp = self._connection()
            try:
                code, text = smtp.mail(self.envelope_sender)
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                self._drop_connection()
                if kept and attempt == 1:
                    continue  # closed while idle: nothing of this message was sent
                raise _Failed(SendStatus.RETRY, f"SMTP connection lost at MAIL ({error})") from None
            if code == 421 and kept and attempt == 1:  # "closing channel" on an idle connection
                self._drop_connection()
                continue
            return smtp, code, text
        raise AssertionError("unreachable")  # the loop returns or raises

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        try:
            if self.tls == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self._timeout, context=self._context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise _Failed(
                        SendStatus.RETRY,
                        f"{SETUP}{self.host}:{self.port} offers no STARTTLS; mail is never sent "
                        "in clear (use tls: tls for port 465)",
                    )
                smtp.starttls(context=self._context)
                smtp.ehlo()
            if self._login is not None:
                smtp.login(*self._login)
        except _Failed:
            raise
        except smtplib.SMTPAuthenticationError as error:
            raise _Failed(
                SendStatus.RETRY,
                f"{SETUP}the SMTP server refused our login ({error.smtp_code})",
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise _Failed(SendStatus.RETRY, f"{SETUP}SMTP: {error}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise _Failed(SendStatus.RETRY, self._connect_failure(error)) from None
        self._smtp = smtp
        return smtp

    def _connect_failure(self, error: BaseException) -> str:
        untrusted = certificate_problem(error)
        if untrusted is not None:
            return (
                f"{SETUP}the SMTP server's TLS certificate is not trusted ({untrusted}); "
                "set ca_bundle to the CA that signed it"
            )
        if isinstance(error, smtplib.SMTPResponseException):
            return f"SMTP server not ready: {_said(error.smtp_code, error.smtp_error)}"
        if isinstance(error, socket.timeout | TimeoutError):
            return f"SMTP server {self.host}:{self.port} did not answer in time"
        return f"SMTP server {self.host}:{self.port} not reached ({type(error).__name__}: {error})"

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """RSET after a refusal, so the kept connection starts the next message clean."""
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop_connection()

    def _drop_connection(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass  # already gone
            self._smtp = None


def from_settings(
    name: str, settings: EmailChannelSettings, secret: Callable[[str], str]
) -> EmailChannel:
    """The channel for validated settings; `secret(env_name)` reads the login, if any."""
    username = secret(settings.username_env) if settings.username_env else None
    password = secret(settings.password_env) if settings.password_env else None
    return EmailChannel(
        name,
        settings.host,
        settings.effective_port,
        settings.tls,
        settings.sender,
        username=username,
        password=password,
        ca_bundle=str(settings.ca_bundle) if settings.ca_bundle else None,
        timeout=settings.timeout_seconds,
        message_id_domain=settings.message_id_domain,
        reply_to=settings.reply_to,
    )
