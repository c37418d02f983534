"""The e-mail channel: the MIME message, and real smtplib against the sandbox's aiosmtpd server
over STARTTLS and implicit TLS, with AUTH, scripted 4xx/5xx replies and a lost answer."""

from __future__ import annotations

import smtplib
import ssl

import pytest

from connectors.channels import SETUP, SendStatus
from connectors.email import KEY_HEADER, EmailChannel, build_mime, message_id
from sandbox.smtp_server import PASSWORD, USERNAME
from tests.channel_helpers import message

SENDER = "Escalations <escalations@acme.example>"
OWNER = "owner@acme.example"


def mail(key: str = "ticket:101|level_raised|action_needed|2026-11-23T09:00Z", **fields):
    values = {"channel": "email", "html": "<p>Ticket <b>101</b> is now action needed.</p>"}
    values.update(fields)
    return message(OWNER, key=key, **values)


# -- the message -------------------------------------------------------------------------------
def test_message_id_is_derived_from_the_key_so_a_resend_is_recognisable():
    assert message_id("k1", "acme.example") == message_id("k1", "acme.example")
    assert message_id("k1", "acme.example") != message_id("k2", "acme.example")
    assert message_id("k1", "acme.example").endswith("@acme.example>")


def test_text_and_html_are_alternatives_with_the_headers_a_reader_needs():
    mime = build_mime(mail(), SENDER, "acme.example", reply_to="cs-leads@acme.example")

    assert mime.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in mime.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert mime["To"] == OWNER and mime["From"] == SENDER
    assert mime["Reply-To"] == "cs-leads@acme.example"
    assert mime[KEY_HEADER] == mail().key


def test_a_message_without_html_is_plain_text():
    mime = build_mime(mail(html=None), SENDER, "acme.example")
    assert mime.get_content_type() == "text/plain"


# -- the real client against the sandbox -------------------------------------------------------
def email_channel(channels, mode: str = "starttls", password: str = PASSWORD, ca: bool = True):
    server = channels.smtp if mode == "starttls" else channels.smtps
    return EmailChannel(
        "email",
        "127.0.0.1",
        server.port,
        mode,
        SENDER,
        username=USERNAME,
        password=password,
        ca_bundle=str(channels.ca_path) if ca else None,
        timeout=10,
    )


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_delivers_over_tls_with_login_and_the_derived_message_id(channels, mode):
    channel = email_channel(channels, mode)
    result = channel.send(mail())
    channel.close()

    server = channels.smtp if mode == "starttls" else channels.smtps
    (received,) = server.messages_to(OWNER)
    assert result.status is SendStatus.SENT
    assert received.tls and received.login == USERNAME
    assert received.mail_from == "escalations@acme.example"
    assert (
        received.message["Message-ID"] == result.remote_id == message_id(result.key, "acme.example")
    )
    assert received.message.get_body(("html",)).get_content().startswith("<p>Ticket")
    assert "now action needed" in received.message.get_body(("plain",)).get_content()


@pytest.mark.integration
def test_one_connection_serves_the_runs_messages(channels):
    channel = email_channel(channels)
    results = [channel.send(mail(key=f"k{n}")) for n in range(3)]
    channel.close()

    assert {r.status for r in results} == {SendStatus.SENT}
    assert len(channels.smtp.received) == 3


@pytest.mark.integration
@pytest.mark.parametrize("phase", ["MAIL", "RCPT", "DATA"])
def test_a_4xx_reply_is_retried(channels, phase):
    channels.smtp.fail(phase, 451, "4.3.0 Try again later")

    result = email_channel(channels).send(mail())

    assert result.status is SendStatus.RETRY
    assert "451" in result.detail
    assert channels.smtp.received == []


@pytest.mark.integration
@pytest.mark.parametrize("phase", ["RCPT", "DATA"])
def test_a_5xx_reply_for_the_recipient_or_message_is_rejected(channels, phase):
    channels.smtp.fail(phase, 554, "5.7.1 Message refused")

    result = email_channel(channels).send(mail())

    assert result.status is SendStatus.REJECTED
    assert "554" in result.detail


@pytest.mark.integration
def test_an_unknown_mailbox_is_rejected_and_the_next_message_still_goes(channels):
    channel = email_channel(channels)
    refused = channel.send(message("nobody@acme.example", key="k1", channel="email"))
    delivered = channel.send(mail(key="k2"))
    channel.close()

    assert refused.status is SendStatus.REJECTED and "550" in refused.detail
    assert delivered.status is SendStatus.SENT
    assert len(channels.smtp.received) == 1


@pytest.mark.integration
def test_a_refused_sender_is_the_channels_setup(channels):
    channels.smtp.fail("MAIL", 553, "5.7.1 Sender address rejected: not owned by user")

    result = email_channel(channels).send(mail())

    assert result.status is SendStatus.RETRY and result.detail.startswith(SETUP)


@pytest.mark.integration
def test_a_refused_login_is_setup_says_no_secret_and_is_not_tried_again(channels):
    channel = email_channel(channels, password="wrong-password")
    first = channel.send(mail(key="k1"))
    refused_once = channels.smtp.logins_refused
    later = [channel.send(mail(key=f"k{n}")) for n in range(2, 5)]

    assert first.status is SendStatus.RETRY and first.detail.startswith(SETUP)
    assert "wrong-password" not in first.detail and USERNAME not in first.detail
    assert [r.detail for r in later] == [first.detail] * 3
    assert refused_once >= 1 and channels.smtp.logins_refused == refused_once


@pytest.mark.integration
def test_a_lost_answer_after_data_is_unknown_and_not_resent(channels):
    channels.smtp.lose_answer_after_data()

    result = email_channel(channels).send(mail())

    assert result.status is SendStatus.UNKNOWN
    assert len(channels.smtp.received) == 1  # it did arrive; the 250 was lost
    assert result.remote_id == channels.smtp.received[0].message["Message-ID"]


@pytest.mark.integration
def test_tls_verification_is_on_an_unknown_ca_is_refused(channels):
    result = email_channel(channels, ca=False).send(mail())

    assert result.status is SendStatus.RETRY
    assert result.detail.startswith(SETUP) and "not trusted" in result.detail
    assert channels.smtp.received == []


@pytest.mark.integration
def test_a_server_without_starttls_gets_nothing_in_clear(channels):
    """The SMTPS port spoken to as if it offered STARTTLS: a handshake, not a clear session;
    and a plain server is refused before any login (the sandbox server requires STARTTLS)."""
    plain = smtplib.SMTP("127.0.0.1", channels.smtp.port, timeout=10)
    try:
        code, _ = plain.mail("escalations@acme.example")
    finally:
        plain.close()
    assert code == 530  # the sandbox refuses mail before STARTTLS, as a submission server does

    context = ssl.create_default_context(cafile=str(channels.ca_path))
    with smtplib.SMTP("127.0.0.1", channels.smtp.port, timeout=10) as session:
        session.starttls(context=context)
        session.ehlo()
        assert session.mail("escalations@acme.example")[0] == 530  # and before AUTH
