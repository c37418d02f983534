"""The channels' sandbox speaks as the real services do: Slack's Web API conventions, paging,
rate tiers and error codes; the webhook receiver's refusals; the full sandbox serving them."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.slack import workspace as ws

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {ws.BOT_TOKEN}"}


def call(channels, method: str, token: str | None = ws.BOT_TOKEN, **args) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{channels.slack_url}/{method}", data=args, headers=headers, verify=str(channels.ca_path)
    )


def test_conversations_list_pages_with_a_cursor_until_it_is_empty(channels):
    names: list[str] = []
    cursor = ""
    pages = 0
    while True:
        answer = call(
            channels,
            "conversations.list",
            limit=100,
            cursor=cursor,
            types="public_channel,private_channel",
        ).json()
        assert answer["ok"] is True
        names += [c["name"] for c in answer["channels"]]
        pages += 1
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert pages == 3 and len(names) == len(set(names)) == 235
    assert "exec-escalations" in names and "secret-board" not in names  # not invited
    assert "old-escalations" in names  # archived channels unless excluded


def test_conversations_list_defaults_to_public_channels_and_can_exclude_archived(channels):
    answer = call(channels, "conversations.list", limit=1000, exclude_archived="true").json()
    names = {c["name"] for c in answer["channels"]}

    assert "escalations" in names and "old-escalations" not in names
    assert "exec-escalations" not in names  # private: only when asked for


@pytest.mark.parametrize(
    "args,error",
    [
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "1001"}, "invalid_limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"types": "public_channel,galaxy"}, "invalid_types"),
    ],
)
def test_conversations_list_refuses_bad_arguments_as_slack_does(channels, args, error):
    answer = call(channels, "conversations.list", **args)
    assert answer.status_code == 200
    assert answer.json() == {"ok": False, "error": error}


def test_a_tier_2_method_is_ratelimited_after_20_calls_a_minute(channels):
    channels.slack.quotas.enabled = True
    statuses = [call(channels, "conversations.list").status_code for _ in range(21)]

    assert statuses == [200] * 20 + [429]
    refused = call(channels, "conversations.list")
    assert refused.json() == {"ok": False, "error": "ratelimited"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert call(channels, "users.lookupByEmail", email="coo@acme.example").status_code == 200


def test_users_lookup_by_email_ignores_case_and_needs_its_scope(channels):
    found = call(channels, "users.lookupByEmail", email="CISO@Acme.Example").json()
    assert found["ok"] and found["user"]["profile"]["email"] == "ciso@acme.example"
    assert call(channels, "users.lookupByEmail", email="x@acme.example").json()["error"] == (
        "users_not_found"
    )
    channels.slack.tokens["xoxb-narrow"] = frozenset({"chat:write"})
    narrow = call(channels, "users.lookupByEmail", token="xoxb-narrow", email="coo@acme.example")
    assert narrow.json()["error"] == "missing_scope"
    assert narrow.json()["needed"] == "users:read.email"


@pytest.mark.parametrize("token,error", [(None, "not_authed"), ("xoxb-unknown", "invalid_auth")])
def test_authentication_errors_are_slack_errors_with_http_200(channels, token, error):
    answer = call(channels, "auth.test", token=token)
    assert (answer.status_code, answer.json()) == (200, {"ok": False, "error": error})


def test_a_revoked_token_and_an_unknown_method(channels):
    channels.slack.revoked_tokens.add(ws.BOT_TOKEN)
    assert call(channels, "auth.test").json()["error"] == "token_revoked"
    unknown = call(channels, "chat.fly")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_method")


@pytest.mark.parametrize(
    "args,error",
    [
        ({"channel": "#escalations"}, "no_text"),
        ({"channel": "#escalations", "text": "x" * 40_001}, "msg_too_long"),
        (
            {"channel": "#escalations", "blocks": json.dumps([{"text": "no type"}])},
            "invalid_blocks",
        ),
        ({"channel": "old-escalations", "text": "hi"}, "is_archived"),
        ({"channel": "secret-board", "text": "hi"}, "channel_not_found"),
    ],
)
def test_post_message_refusals(channels, args, error):
    assert call(channels, "chat.postMessage", **args).json() == {"ok": False, "error": error}
    assert channels.slack.messages == []


def test_post_message_by_form_and_json_lands_once_each_and_is_inspectable(channels):
    by_form = call(channels, "chat.postMessage", channel="escalations", text="by form").json()
    by_json = requests.post(
        f"{channels.slack_url}/chat.postMessage",
        json={"channel": by_form["channel"], "text": "by json"},
        headers=AUTH,
        verify=str(channels.ca_path),
    ).json()

    assert by_form["ok"] and by_json["ok"] and by_json["ts"] > by_form["ts"]
    assert [m.text for m in channels.slack.messages_in("#escalations")] == ["by form", "by json"]
    writes = requests.get(
        f"{channels.slack.base_url}/__sandbox/writes", verify=str(channels.ca_path)
    ).json()
    assert [w["endpoint"] for w in writes] == ["chat.postMessage"] * 2


def test_the_webhook_receiver_needs_a_key_and_a_known_hook(channels):
    from connectors.webhook import signature

    body = b'{"a":1}'
    headers = {
        "X-Escalation-Timestamp": "1",
        "X-Escalation-Signature": signature(b"sandbox-webhook-secret", "1", body),
    }
    channels.webhook.clock = lambda: 1.0
    no_key = requests.post(
        channels.webhook.url(), data=body, headers=headers, verify=str(channels.ca_path)
    )
    unknown = requests.post(
        channels.webhook.url("nope"), data=body, headers=headers, verify=str(channels.ca_path)
    )

    assert (no_key.status_code, unknown.status_code) == (400, 404)
    assert channels.webhook.deliveries == []


def test_the_full_sandbox_serves_the_channels_with_its_own_ca(tmp_path):
    from sandbox.runner import Sandbox

    with Sandbox(work_dir=tmp_path, quotas=False, channels=True) as running:
        channels = running.channels
        assert channels.ca_path == running.ca_path
        answer = requests.post(
            f"{channels.slack_url}/auth.test", headers=AUTH, verify=str(running.ca_path)
        )
        assert answer.json()["team_id"] == ws.TEAM_ID
        assert channels.smtp.port and channels.smtps.port
