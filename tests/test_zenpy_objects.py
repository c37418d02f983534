"""connectors/zenpy_objects.py `make`: the objects we send carry the payload zenpy's own
constructors give them (what `api._serialize` sends for an update), for every shape of ticket
and organisation write we make."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zenpy.lib.api_objects import Comment, Organization, Ticket
from zenpy.lib.util import json_encode_for_zendesk

from connectors.base import FieldWrite
from connectors.zendesk import ticket_payload
from connectors.zendesk_organizations import organization_item
from connectors.zenpy_objects import make


def sent(item: Any) -> Any:
    """What zenpy puts in an update's body for this object (api._serialize)."""
    return json.loads(json.dumps(item, default=json_encode_for_zendesk))


def ticket_the_slow_way(attributes: dict[str, Any]) -> Ticket:
    slow = dict(attributes)
    if isinstance(slow.get("comment"), Comment):
        comment = slow["comment"]
        slow["comment"] = Comment(body=comment.body, public=comment.public)
    return Ticket(**slow)


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5))
)
FIELD_NAMES = st.one_of(
    st.integers(min_value=1, max_value=10**12).map(str),
    st.sampled_from(["priority", "status", "type", "assignee_id", "group_id", "subject"]),
)
TAGS = st.lists(st.from_regex(r"[a-z][a-z_-]{0,12}", fullmatch=True), max_size=3).map(tuple)


@given(
    ticket_id=st.integers(min_value=1, max_value=10**9),
    fields=st.dictionaries(FIELD_NAMES, VALUES, max_size=6),
    tags_add=TAGS,
    tags_remove=TAGS,
    note=st.one_of(st.none(), st.text(min_size=1, max_size=40)),
    stamp=st.one_of(st.none(), st.just("2026-12-07T10:00:00Z")),
)
def test_a_ticket_write_sends_what_the_constructor_sends(
    ticket_id: int,
    fields: dict[str, Any],
    tags_add: tuple[str, ...],
    tags_remove: tuple[str, ...],
    note: str | None,
    stamp: str | None,
) -> None:
    write = FieldWrite(
        "zendesk", "ticket", str(ticket_id), fields, tags_add, tags_remove, note, stamp
    )
    fast = ticket_payload(write)
    attributes = {k: v for k, v in vars(fast).items() if not k.startswith("_")}
    assert sent(fast) == sent(ticket_the_slow_way(attributes))
    assert type(fast) is Ticket and fast.id == ticket_id


@given(
    organization_id=st.integers(min_value=1, max_value=10**12),
    fields=st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), VALUES, max_size=4),
    tags_now=TAGS,
    tags_add=TAGS,
    tags_remove=TAGS,
)
def test_an_organisation_write_sends_what_the_constructor_sends(
    organization_id: int,
    fields: dict[str, Any],
    tags_now: tuple[str, ...],
    tags_add: tuple[str, ...],
    tags_remove: tuple[str, ...],
) -> None:
    write = FieldWrite(
        "zendesk", "organization", str(organization_id), fields, tags_add, tags_remove
    )
    item = organization_item(write, tags_now)
    fast = make(Organization, item)
    assert sent(fast) == sent(Organization(**item))
    assert type(fast) is Organization and fast.id == organization_id


@pytest.mark.parametrize(
    "attributes",
    [
        {"id": 7, "organization_fields": None, "tags": ["vip"]},  # a None given: not sent
        {"id": 7, "assignee": None},  # a property: its setter runs, as in the constructor
        {"id": 7, "custom_fields": [{"id": 1, "value": None}], "priority": "high"},
    ],
)
def test_nones_and_properties_as_the_constructor_has_them(attributes: dict[str, Any]) -> None:
    kind = Organization if "organization_fields" in attributes else Ticket
    assert sent(make(kind, attributes)) == sent(kind(**attributes))


def test_the_objects_print_as_zenpys_do() -> None:
    """zenpy logs repr(object) when it serialises one: it must not fail on the attributes
    make leaves out."""
    assert repr(make(Organization, {"id": 5})) == repr(Organization(id=5)) == "Organization(id=5)"
    assert repr(make(Comment, {"body": "x"})) == repr(Comment(body="x"))
