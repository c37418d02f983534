"""The Slack channel: what each Slack answer means for a message, and the real slack_sdk client
against the sandbox's Slack Web API over TLS.

slack_sdk speaks through urllib, which `responses` cannot intercept: the answer table is tested
as the pure functions it is, and the exact requests are read back from the emulator.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from connectors.channels import SETUP, Found, SendStatus
from connectors.slack import (
    METADATA_EVENT_TYPE,
    PAGE_SIZE,
    SlackChannel,
    classify_answer,
    classify_exception,
    make_client,
)
from sandbox.faults import Fault
from sandbox.slack import workspace as ws
from sandbox.slack.workspace import Posted
from tests.channel_helpers import message

POST = "chat.postMessage"


# -- the answer table -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "users_not_found",
    ],
)
def test_refusal_of_the_message_or_recipient_is_rejected(error):
    verdict = classify_answer(POST, 200, error, {})
    assert verdict.status is SendStatus.REJECTED
    assert error in verdict.detail


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "token_revoked", "missing_scope"])
def test_refused_credentials_or_scopes_are_the_channels_setup_and_retried(error):
    verdict = classify_answer(POST, 200, error, {})
    assert verdict.status is SendStatus.RETRY
    assert verdict.detail.startswith(SETUP)


def test_ratelimited_is_retried_after_the_wait_slack_asks_for():
    verdict = classify_answer(POST, 429, "ratelimited", {"Retry-After": "30"})
    assert verdict.status is SendStatus.RETRY
    assert verdict.retry_after == 30.0


@pytest.mark.parametrize("error,status", [("fatal_error", 200), ("internal_error", 200), ("", 500)])
def test_a_post_that_may_have_succeeded_is_unknown_but_a_lookup_is_retried(error, status):
    assert classify_answer(POST, status, error, {}).status is SendStatus.UNKNOWN
    assert classify_answer("users.lookupByEmail", status, error, {}).status is SendStatus.RETRY


def test_service_unavailable_was_not_done_and_is_retried():
    assert classify_answer(POST, 503, "service_unavailable", {}).status is SendStatus.RETRY


def test_an_error_code_not_in_the_table_is_retried_not_dropped():
    verdict = classify_answer(POST, 200, "some_new_error", {})
    assert verdict.status is SendStatus.RETRY
    assert "some_new_error" in verdict.detail


def test_a_proxy_page_is_not_quoted_as_an_error_code():
    verdict = classify_answer(POST, 502, "Received a response in a non-JSON format: <html>", {})
    assert "<html>" not in verdict.detail
    assert "HTTP 502" in verdict.detail


def test_a_request_that_never_left_is_retried_and_a_lost_answer_is_unknown():
    refused = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    assert classify_exception(POST, refused).status is SendStatus.RETRY
    lost = http.client.RemoteDisconnected("Remote end closed connection without response")
    assert classify_exception(POST, lost).status is SendStatus.UNKNOWN
    assert classify_exception(POST, ConnectionResetError(104, "reset")).status is SendStatus.UNKNOWN
    assert classify_exception("conversations.list", lost).status is SendStatus.RETRY


def test_an_untrusted_certificate_is_a_setup_problem():
    untrusted = ssl.SSLCertVerificationError(1, "certificate verify failed")
    untrusted.verify_message = "unable to get local issuer certificate"
    error = urllib.error.URLError(untrusted)
    verdict = classify_exception(POST, error)
    assert verdict.status is SendStatus.RETRY
    assert verdict.detail.startswith(SETUP) and "ca_bundle" in verdict.detail


# -- the real client against the sandbox ------------------------------------------------------


def slack_channel(channels, token: str = ws.BOT_TOKEN, ca: bool = True) -> SlackChannel:
    ca_bundle = str(channels.ca_path) if ca else None
    return SlackChannel("slack", make_client(token, channels.slack_url, ca_bundle, timeout=10))


@pytest.mark.integration
def test_posts_to_a_channel_by_name_with_its_id_blocks_and_the_key_in_metadata(channels):
    blocks = ({"type": "section", "text": {"type": "mrkdwn", "text": "*Ticket 101*"}},)
    channel = slack_channel(channels)

    result = channel.send(message("#exec-escalations", blocks=blocks))

    assert result.status is SendStatus.SENT
    (posted,) = channels.slack.messages_in("#exec-escalations")
    assert posted.channel_arg == posted.channel  # the id, found by conversations.list
    assert posted.blocks == list(blocks)
    assert posted.metadata["event_type"] == METADATA_EVENT_TYPE
    assert posted.key == result.key
    assert result.remote_id == f"{posted.channel}:{posted.ts}"


@pytest.mark.integration
def test_channel_names_are_listed_once_per_run_across_pages(channels):
    channel = slack_channel(channels)
    # team-230 comes on the second page of 200: the cursor was followed.
    for target in ("#team-230", "#escalations", "#team-001"):
        assert channel.send(message(target, key=target)).status is SendStatus.SENT

    requests = channels.slack.traffic.requests
    assert requests["conversations.list"] == 2  # two pages, once
    assert requests["auth.test"] == 1
    assert requests[POST] == 3


@pytest.mark.integration
def test_direct_message_to_an_owner_found_by_email_is_looked_up_once(channels):
    channel = slack_channel(channels)
    for number in range(2):
        result = channel.send(message("user:COO@acme.example", key=f"k{number}"))
        assert result.status is SendStatus.SENT

    assert len(channels.slack.messages_in("coo@acme.example")) == 2
    assert channels.slack.traffic.requests["users.lookupByEmail"] == 1


@pytest.mark.integration
@pytest.mark.parametrize(
    "target,said",
    [
        ("C99999999", "channel_not_found"),
        ("#general", "not_in_channel"),
        ("#no-such-channel", "no channel #no-such-channel"),
        ("#old-escalations", "no channel #old-escalations"),
        ("user:nobody@acme.example", "users_not_found"),
        ("user:former.csm@acme.example", "deactivated"),
    ],
)
def test_unknown_or_unreachable_recipients_are_rejected(channels, target, said):
    result = slack_channel(channels).send(message(target))

    assert result.status is SendStatus.REJECTED
    assert said in result.detail
    assert channels.slack.messages == []


@pytest.mark.integration
def test_ratelimited_post_is_retried_after_slacks_wait(channels):
    channels.slack.quotas.enabled = True
    channels.slack.per_channel_posts = 1
    channel = slack_channel(channels)

    first = channel.send(message("#escalations", key="k1"))
    second = channel.send(message("#escalations", key="k2"))

    assert first.status is SendStatus.SENT
    assert second.status is SendStatus.RETRY
    assert second.retry_after is not None and second.retry_after >= 1
    assert "ratelimited" in second.detail
    assert [m.key for m in channels.slack.messages] == ["k1"]


@pytest.mark.integration
def test_a_refused_token_stops_the_runs_posts_without_rejecting_the_messages(channels):
    channel = slack_channel(channels, token="xoxb-wrong")

    results = [channel.send(message("#escalations", key=f"k{n}")) for n in range(3)]

    assert {r.status for r in results} == {SendStatus.RETRY}
    assert all(r.detail.startswith(SETUP) and "invalid_auth" in r.detail for r in results)
    assert channels.slack.traffic.requests["auth.test"] == 1  # asked once, not per message
    assert channels.slack.traffic.requests[POST] == 0


@pytest.mark.integration
def test_missing_scope_for_lookups_is_setup_and_names_the_scope_in_the_log_detail(channels):
    channels.slack.tokens["xoxb-no-email"] = frozenset({"chat:write", "channels:read"})
    result = slack_channel(channels, token="xoxb-no-email").send(message("user:coo@acme.example"))

    assert result.status is SendStatus.RETRY
    assert result.detail.startswith(SETUP) and "missing_scope" in result.detail


@pytest.mark.integration
def test_a_missing_scope_for_dms_leaves_channel_posts_going(channels):
    channels.slack.tokens["xoxb-no-email"] = frozenset(
        {"chat:write", "channels:read", "groups:read"}
    )
    channel = slack_channel(channels, token="xoxb-no-email")

    dm = channel.send(message("user:coo@acme.example", key="k1"))
    post = channel.send(message("#escalations", key="k2"))

    assert dm.status is SendStatus.RETRY and dm.detail.startswith(SETUP)
    assert post.status is SendStatus.SENT


@pytest.mark.integration
def test_a_lost_answer_is_unknown_and_the_post_is_not_sent_twice(channels):
    channels.slack.faults.add(Fault(POST, "lost_answer"))

    result = slack_channel(channels).send(message("#escalations"))

    assert result.status is SendStatus.UNKNOWN
    assert "not resent" in result.detail
    assert len(channels.slack.messages) == 1  # it did land, once
    assert channels.slack.traffic.requests[POST] == 1


@pytest.mark.integration
def test_slack_sdks_default_client_would_have_posted_twice(channels):
    """Why the channel's WebClient has no retry handlers: the default one resends after a
    reset, and Slack cannot tell the copy from the first."""
    channels.slack.faults.add(Fault(POST, "lost_answer"))
    default = WebClient(
        token=ws.BOT_TOKEN,
        base_url=channels.slack_url + "/",
        ssl=ssl.create_default_context(cafile=str(channels.ca_path)),
    )
    default.chat_postMessage(channel="#escalations", text="hello")

    assert len(channels.slack.messages) == 2


@pytest.mark.integration
def test_a_reset_before_slack_answered_is_unknown_even_when_nothing_landed(channels):
    channels.slack.faults.add(Fault(POST, "reset"))

    result = slack_channel(channels).send(message("#escalations"))

    assert result.status is SendStatus.UNKNOWN  # the client cannot tell the two resets apart
    assert channels.slack.messages == []


@pytest.mark.integration
def test_fatal_error_is_unknown_and_service_unavailable_is_retried(channels):
    channel = slack_channel(channels)
    channels.slack.faults.add(Fault(POST, "error", detail={"error": "fatal_error", "posted": True}))
    assert channel.send(message("#escalations", key="k1")).status is SendStatus.UNKNOWN

    channels.slack.faults.add(Fault(POST, "status", status=503))
    result = channel.send(message("#escalations", key="k2"))
    assert result.status is SendStatus.RETRY
    assert "service_unavailable" in result.detail


@pytest.mark.integration
def test_tls_verification_is_on_an_unknown_ca_is_refused(channels):
    result = slack_channel(channels, ca=False).send(message("#escalations"))

    assert result.status is SendStatus.RETRY
    assert result.detail.startswith(SETUP) and "not trusted" in result.detail
    assert channels.slack.messages == []


# -- reading back what was posted (a lost answer, settled on a later run) -------------------------
AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


@pytest.mark.integration
def test_a_post_whose_answer_was_lost_is_found_in_the_channels_history(channels):
    channels.slack.faults.add(Fault(POST, "lost_answer"))
    channel = slack_channel(channels)
    assert channel.send(message("#exec-escalations", key="lost")).status is SendStatus.UNKNOWN
    channel.send(message("#exec-escalations", key="later"))

    check = slack_channel(channels).find_sent(message("#exec-escalations", key="lost"), AN_HOUR_AGO)

    assert check.found is Found.THERE
    (lost,) = [m for m in channels.slack.messages if m.key == "lost"]
    assert check.remote_id == f"{lost.channel}:{lost.ts}"
    assert channels.slack.traffic.requests["conversations.history"] == 1


@pytest.mark.integration
def test_a_reset_that_posted_nothing_is_found_absent_after_reading_every_page(channels):
    channel = slack_channel(channels)
    for number in range(PAGE_SIZE + 5):  # more than one page of other posts since
        channels.slack.workspace.messages.append(
            Posted(
                channels.slack.workspace.channel_by_name("escalations").id,
                "#escalations",
                channels.slack.workspace.next_ts(),
                f"other {number}",
                None,
                {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": f"o{number}"}},
                0.0,
            )  # fmt: skip
        )
    channels.slack.faults.add(Fault(POST, "reset"))
    assert channel.send(message("#escalations", key="reset")).status is SendStatus.UNKNOWN

    check = channel.find_sent(message("#escalations", key="reset"), AN_HOUR_AGO)

    assert check.found is Found.ABSENT
    assert channels.slack.traffic.requests["conversations.history"] == 2


@pytest.mark.integration
def test_posts_before_since_are_not_read(channels):
    channel = slack_channel(channels)
    assert channel.send(message("#escalations", key="old")).status is SendStatus.SENT

    check = channel.find_sent(message("#escalations", key="old"), datetime.now(UTC) + timedelta(1))

    assert check.found is Found.ABSENT


@pytest.mark.integration
def test_a_direct_message_is_looked_for_in_the_bots_dm_with_that_person(channels):
    channels.slack.faults.add(Fault(POST, "lost_answer"))
    channel = slack_channel(channels)
    assert channel.send(message("user:coo@acme.example", key="dm")).status is SendStatus.UNKNOWN

    check = slack_channel(channels).find_sent(
        message("user:coo@acme.example", key="dm"), AN_HOUR_AGO
    )

    assert check.found is Found.THERE
    assert check.remote_id.startswith("D")


@pytest.mark.integration
def test_without_the_history_scope_the_message_stays_unknown_and_the_scope_is_named(channels):
    channels.slack.tokens["xoxb-no-history"] = ws.BOT_SCOPES - {"groups:history"}
    channel = slack_channel(channels, token="xoxb-no-history")

    check = channel.find_sent(message("#exec-escalations", key="k"), AN_HOUR_AGO)

    assert check.found is Found.CANNOT_TELL
    assert "missing_scope" in check.detail


@pytest.mark.integration
def test_a_history_busier_than_the_pages_read_cannot_tell(channels, monkeypatch):
    import connectors.slack as slack

    monkeypatch.setattr(slack, "PAGE_SIZE", 2)
    monkeypatch.setattr(slack, "HISTORY_PAGES", 2)
    channel = slack_channel(channels)
    for number in range(5):
        channel.send(message("#escalations", key=f"k{number}"))

    check = channel.find_sent(message("#escalations", key="k0"), AN_HOUR_AGO)

    assert check.found is Found.CANNOT_TELL
    assert "more than 4 messages" in check.detail
