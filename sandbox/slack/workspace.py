"""One emulated Slack workspace: its people, its channels and every message posted to it."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Acme Sandbox"
TEAM_URL = "https://acme-sandbox.slack.com/"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
BOT_NAME = "escalation-sync"
BOT_TOKEN = "xoxb-sandbox-escalation-sync"
# What a notification bot is installed with: post, read channel lists, find people by e-mail,
# and read back the conversations it posts to (to tell whether a post whose answer was lost
# arrived: channels/groups/im:history, im:write to find a person's DM).
BOT_SCOPES = frozenset(
    {
        "chat:write",
        "channels:read",
        "groups:read",
        "im:read",
        "users:read",
        "users:read.email",
        "channels:history",
        "groups:history",
        "im:history",
        "im:write",
    }
)


@dataclass
class User:
    id: str
    name: str
    email: str
    deleted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.name,
            "is_bot": False,
            "profile": {"email": self.email, "real_name": self.name, "display_name": self.name},
        }


@dataclass
class Conversation:
    id: str
    name: str  # "" for a DM
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True  # is the bot a member
    im_user: str | None = None  # a DM: the other person
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def as_json(self) -> dict[str, Any]:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.im_user, "created": self.created}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_member": self.is_member,
            "created": self.created,
        }


@dataclass(frozen=True)
class Posted:
    """A message as the workspace received it (what tests inspect)."""

    channel: str  # the conversation id it landed in
    channel_arg: str  # the `channel` argument exactly as sent
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    received_at: float

    @property
    def key(self) -> str | None:
        """The outbox key escalation-sync puts in the message metadata."""
        payload = (self.metadata or {}).get("event_payload") or {}
        return payload.get("key")


class Workspace:
    """People, channels and messages; thread-safe (the server answers from several threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.conversations: dict[str, Conversation] = {}  # id -> conversation, in creation order
        self.messages: list[Posted] = []
        self._ids = itertools.count(1)
        self._last_ts = 0.0

    # -- set-up ---------------------------------------------------------------------------
    def add_user(self, email: str, name: str | None = None, deleted: bool = False) -> str:
        with self.lock:
            user_id = f"U{next(self._ids):08d}"
            self.users[user_id] = User(user_id, name or email.split("@")[0], email, deleted)
            return user_id

    def add_channel(
        self, name: str, private: bool = False, member: bool = True, archived: bool = False
    ) -> str:
        with self.lock:
            channel_id = f"{'G' if private else 'C'}{next(self._ids):08d}"
            self.conversations[channel_id] = Conversation(
                channel_id, name, private, archived, member
            )
            return channel_id

    # -- lookups --------------------------------------------------------------------------
    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def channel_by_name(self, name: str) -> Conversation | None:
        wanted = name.lstrip("#").lower()
        return next(
            (c for c in self.conversations.values() if not c.is_im and c.name == wanted), None
        )

    def dm_with(self, user_id: str) -> Conversation:
        """The bot's DM with a person, opened at the first message (as chat.postMessage does)."""
        for conversation in self.conversations.values():
            if conversation.im_user == user_id:
                return conversation
        dm_id = f"D{next(self._ids):08d}"
        self.conversations[dm_id] = Conversation(dm_id, "", is_private=True, im_user=user_id)
        return self.conversations[dm_id]

    def next_ts(self) -> str:
        """A message timestamp: unique and increasing, Slack's "seconds.micro" form."""
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    # -- what tests read ------------------------------------------------------------------
    def messages_in(self, channel: str) -> list[Posted]:
        """Messages of a channel (id or #name) or of a DM (the person's e-mail or user id)."""
        with self.lock:
            target = channel
            if channel.startswith("#"):
                found = self.channel_by_name(channel)
                target = found.id if found else channel
            elif "@" in channel:
                user = self.user_by_email(channel)
                target = self.dm_with(user.id).id if user else channel
            elif channel in self.users:
                target = self.dm_with(channel).id
            return [m for m in self.messages if m.channel == target]


def default_workspace() -> Workspace:
    """A small workspace: the escalation channels, one of each failure shape, some people.

    `filler` channels make the channel list longer than one page of 200.
    """
    workspace = Workspace()
    workspace.add_channel("escalations")
    workspace.add_channel("cs-leadership", private=True)
    workspace.add_channel("exec-escalations", private=True)
    workspace.add_channel("general", member=False)  # public, the bot was never invited
    workspace.add_channel("secret-board", private=True, member=False)  # invisible to the bot
    workspace.add_channel("old-escalations", archived=True)
    for number in range(1, 231):
        workspace.add_channel(f"team-{number:03d}")
    workspace.add_user("vp.customer-success@acme.example", "VP Customer Success")
    workspace.add_user("coo@acme.example", "COO")
    workspace.add_user("ciso@acme.example", "CISO")
    workspace.add_user("former.csm@acme.example", "Former CSM", deleted=True)
    return workspace
