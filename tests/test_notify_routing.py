"""Rules route an event by kind, level, category and tier to recipients on channels; people
wait for their calendar to open (quiet hours) unless the rule or the level says otherwise;
digest rules go by the digest's channel."""

from __future__ import annotations

from datetime import UTC, datetime

from config.notifications_rules import NotificationsConfig
from notify.events import Event
from notify.routing import Router

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # night in the office calendar
OPENS = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CHANNELS = {
    "slack": {"type": "slack", "token_env": "T"},
    "email": {"type": "email", "host": "smtp.acme.example", "sender": "e@acme.example"},
    "hook": {"type": "webhook", "url": "https://bridge.acme.example/x", "secret_env": "S"},
}
PEOPLE = {
    "owner": "ana@acme.example",
    "backup": "support-tier2",
    "previous_owner": None,
    "account_owner": "ae@acme.example",
    "account_csm": "csm@acme.example",
}


def router(**section) -> Router:
    settings = NotificationsConfig.model_validate(
        {
            "channels": CHANNELS,
            "recipients": {"support-tier2": {"email": "tier2@acme.example", "slack": "#tier2"}},
            "quiet_hours": {"default_calendar": "office", "except_levels": ["executive-review"]},
            **section,
        }
    )
    return Router(settings, lambda calendar, now: OPENS if calendar == "office" else now)


def event(kind: str = "level_raised", level: str = "action-needed") -> Event:
    return Event("zendesk:7", kind, level, "2026-11-23T02:55:00+00:00", "advisory")


def routed(r: Router, e: Event, category: str = "outage", tier: str = "strategic") -> list:
    facts = {"category": category, "tier": tier, "role": "commercial"}
    return [(x.channel, x.to, x.audience, x.not_before) for x in r.route(e, PEOPLE, facts, NOW)]


def test_a_rule_sends_people_dms_and_mail_and_queues_their_channel():
    r = router(
        rules=[
            {
                "events": ["level_raised"],
                "to": ["owner", "backup"],
                "channels": ["slack", "email"],
                "quiet_hours": False,
            }
        ]
    )
    assert routed(r, event()) == [
        ("slack", "user:ana@acme.example", "commercial", NOW),
        ("slack", "#tier2", "commercial", NOW),
        ("email", "ana@acme.example", "commercial", NOW),
        ("email", "tier2@acme.example", "commercial", NOW),
    ]


def test_rules_match_on_level_category_and_tier_and_watchers_join_per_level():
    r = router(
        rules=[
            {
                "events": ["level_raised"],
                "levels": ["executive-review"],
                "to": ["ceo@acme.example"],
                "channels": ["email"],
                "audience": "executive",
            },
            {
                "events": ["level_raised"],
                "categories": ["contract"],
                "to": ["account_owner"],
                "channels": ["email"],
            },
            {
                "events": ["level_raised"],
                "tiers": ["growth"],
                "to": ["account_csm"],
                "channels": ["email"],
            },
        ]
    )
    assert routed(r, event()) == []
    top = routed(r, event(level="executive-review"))
    assert top == [("email", "ceo@acme.example", "executive", NOW)]  # the top level: not quiet
    assert [x[1] for x in routed(r, event(), category="contract")] == ["ae@acme.example"]
    assert [x[1] for x in routed(r, event(), tier="growth")] == ["csm@acme.example"]


def test_quiet_hours_hold_a_persons_message_until_their_calendar_opens_but_not_a_channels():
    r = router(
        rules=[{"events": ["sla_at_risk"], "to": ["owner", "#escalations"], "channels": ["slack"]}]
    )
    assert routed(r, event("sla_at_risk")) == [
        ("slack", "user:ana@acme.example", "commercial", OPENS),
        ("slack", "#escalations", "commercial", NOW),
    ]


def test_a_webhook_gets_one_message_per_event_naming_every_recipient():
    r = router(
        rules=[{"events": ["level_raised"], "to": ["owner", "backup"], "channels": ["hook"]}]
    )
    found = r.route(event(), PEOPLE, {"category": None, "tier": "strategic"}, NOW)
    assert [(x.channel, x.to, x.recipients) for x in found] == [
        ("hook", "", ("ana@acme.example", "support-tier2"))
    ]


def test_digest_rules_go_by_the_digest_channel_and_wait_for_it():
    r = router(
        digest={"at": "09:00", "channel": "email"},
        rules=[
            {
                "events": ["level_raised"],
                "levels": ["action-needed"],
                "to": ["owner"],
                "channels": ["slack"],
                "digest": True,
            }
        ],
    )
    [item] = r.route(event(), PEOPLE, {"tier": "strategic"}, NOW)
    assert (item.channel, item.to, item.digest) == ("email", "ana@acme.example", True)


def test_a_name_without_an_address_is_reported_not_guessed():
    r = router(rules=[{"events": ["level_raised"], "to": ["tam-strategic"], "channels": ["email"]}])
    assert routed(r, event()) == []
    assert r.unaddressable == {"tam-strategic (email)"}
