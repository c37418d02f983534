"""The Slack Web API emulation: auth.test, chat.postMessage, users.lookupByEmail,
conversations.list, conversations.open and conversations.history.

Slack's conventions: every method is `POST /api/<method>` (GET with a query string works too);
arguments come as a query string, a form body or a JSON body; the token as `Authorization:
Bearer xoxb-...` (or a `token` argument). Every refusal is HTTP 200 `{"ok": false, "error":
"<code>"}`, except `ratelimited` (HTTP 429 with Retry-After, whole seconds) and server failures.

Rate limits (https://docs.slack.dev/apis/web-api/rate-limits), per method per workspace:
auth.test "hundreds per minute" (here 600), conversations.list Tier 2 (20 per minute),
users.lookupByEmail, conversations.open and conversations.history Tier 3 (50 per minute: what
Slack gives an org's own internal app; a commercially distributed app outside the Marketplace
gets 1 per minute and 15 messages a page since 2025), chat.postMessage its special tier: one message per
second per channel with short bursts allowed (here 5 per 5 s per channel) under a workspace-wide
limit Slack does not publish (here 300 per minute). `time_factor` scales every window.

Faults, besides the core's status/reset/delay: `Fault(method, "error", detail={"error": code,
"status": 200, "posted": False})` answers that Slack error (with `posted: True` the message is
kept first, as Slack's fatal_error may have done), and `Fault("chat.postMessage",
"lost_answer")` keeps the message and resets the connection before the answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any
from urllib.parse import parse_qs

from sandbox.http import Request, Response, Route
from sandbox.lossy_server import DROP_HEADER
from sandbox.quotas import QuotaRule, Quotas, QuotaVerdict
from sandbox.slack import workspace as ws
from sandbox.slack.workspace import Conversation, Posted, Workspace, default_workspace
from sandbox.vendor import VendorApp

POST = "chat.postMessage"
HISTORY = "conversations.history"
METHODS = (
    "auth.test",
    POST,
    "users.lookupByEmail",
    "conversations.list",
    "conversations.open",
    HISTORY,
)
HISTORY_LIMIT_MAX = 999  # Slack: "maximum of 999"; default 100
# conversations.history: the scope each kind of conversation needs.
HISTORY_SCOPE = {"public": "channels:history", "private": "groups:history", "im": "im:history"}
MAX_TEXT = 40_000
MAX_BLOCKS = 50
LIST_LIMIT_MAX = 1000
CHANNEL_TYPES = ("public_channel", "private_channel", "mpim", "im")
PER_CHANNEL_POSTS = 5  # per PER_CHANNEL_WINDOW seconds: one a second, short bursts allowed
PER_CHANNEL_WINDOW = 5.0
NEEDED_SCOPE = {
    POST: "chat:write",
    "users.lookupByEmail": "users:read.email",
    "conversations.open": "im:write",
}


def _ok(body: dict[str, Any]) -> Response:
    # Serialised now, under the state lock: the body may hold live records.
    return Response(200, json.dumps({"ok": True, **body}).encode(), dict(_JSON))


def slack_error(code: str, status: int = 200, **extra: Any) -> Response:
    return Response(status, json.dumps({"ok": False, "error": code, **extra}).encode(), dict(_JSON))


_JSON = {"Content-Type": "application/json; charset=utf-8"}


def arguments(request: Request) -> dict[str, Any]:
    """Query string, form body and JSON body merged, as Slack reads them."""
    args: dict[str, Any] = {name: values[0] for name, values in request.query.items() if values}
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return args
    if "json" in content_type:
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {**args, "__invalid__": "invalid_json"}
        if isinstance(body, dict):
            args.update(body)
        return args
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    args.update({name: values[0] for name, values in form.items() if values})
    return args


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def _json_arg(value: Any) -> Any:
    """Blocks and metadata arrive as JSON text in a form body, as objects in a JSON body."""
    if isinstance(value, str):
        return json.loads(value)
    return value


class SlackApp(VendorApp):
    name = "slack"

    def __init__(
        self,
        quota_rules: list[QuotaRule] | None = None,
        time_factor: float = 1.0,
        workspace: Workspace | None = None,
    ):
        super().__init__(quota_rules, time_factor)
        self.workspace = workspace or default_workspace()
        self.tokens: dict[str, frozenset[str]] = {ws.BOT_TOKEN: ws.BOT_SCOPES}
        self.revoked_tokens: set[str] = set()
        self.per_channel_posts = PER_CHANNEL_POSTS
        self._channel_quotas: dict[str, Quotas] = {}

    # -- routes and authentication --------------------------------------------------------
    def routes(self) -> list[Route]:
        handlers = {
            "auth.test": self._auth_test,
            POST: self._post_message,
            "users.lookupByEmail": self._lookup_by_email,
            "conversations.list": self._conversations_list,
            "conversations.open": self._conversations_open,
            HISTORY: self._conversations_history,
        }
        routes = []
        for method, handler in handlers.items():
            pattern = "/api/" + method.replace(".", r"\.")
            for verb in ("POST", "GET"):
                routes.append(Route(verb, pattern, method, handler, writes=method == POST))
        return routes

    def _token(self, request: Request) -> str:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return str(arguments(request).get("token", ""))

    def authenticate(self, request: Request, route: Route) -> Response | None:
        token = self._token(request)
        if not token:
            return slack_error("not_authed")
        if token in self.revoked_tokens:
            return slack_error("token_revoked")
        scopes = self.tokens.get(token)
        if scopes is None:
            return slack_error("invalid_auth")
        needed = NEEDED_SCOPE.get(route.name)
        if needed is not None and needed not in scopes:
            return slack_error("missing_scope", needed=needed, provided=",".join(sorted(scopes)))
        return None

    def _scopes(self, request: Request) -> frozenset[str]:
        return self.tokens.get(self._token(request), frozenset())

    # -- quotas and error bodies ----------------------------------------------------------
    def default_quota_rules(self) -> list[QuotaRule]:
        return [
            QuotaRule("auth.test", 600, 60.0, ("auth.test",)),
            QuotaRule("tier2:conversations.list", 20, 60.0, ("conversations.list",)),
            QuotaRule("tier3:users.lookupByEmail", 50, 60.0, ("users.lookupByEmail",)),
            QuotaRule("tier3:conversations.open", 50, 60.0, ("conversations.open",)),
            QuotaRule("tier3:conversations.history", 50, 60.0, (HISTORY,)),
            QuotaRule("chat.postMessage workspace", 300, 60.0, (POST,)),
        ]

    def rate_limited(self, verdict: QuotaVerdict, route: Route) -> Response:
        response = slack_error("ratelimited", 429)
        response.headers["Retry-After"] = str(verdict.retry_after_seconds)
        return response

    def error_body(self, status: int, route: Route) -> Any:
        if status == 429:
            return {"ok": False, "error": "ratelimited"}
        if status == 503:
            return {"ok": False, "error": "service_unavailable"}
        if status >= 500:
            return {"ok": False, "error": "internal_error"}
        return {"ok": False, "error": f"http_{status}"}

    def not_found(self, request: Request) -> Response:
        return slack_error("unknown_method", 404)

    def _channel_limit(self, channel_id: str) -> Response | None:
        """Slack's one message per second per channel (with short bursts): 429 past it."""
        if not self.quotas.enabled:
            return None
        quotas = self._channel_quotas.get(channel_id)
        if quotas is None:
            rule = QuotaRule(f"post:{channel_id}", self.per_channel_posts, PER_CHANNEL_WINDOW)
            quotas = Quotas([rule], self.quotas.time_factor)
            self._channel_quotas[channel_id] = quotas
        verdict = quotas.check(POST)
        if verdict.allowed:
            return None
        return self.rate_limited(verdict, Route("POST", "", POST, self._post_message))

    def _scripted_error(self, method: str) -> tuple[Response, bool] | None:
        """A test's `Fault(method, "error")`: the answer, and whether to keep the message."""
        fault = self.faults.take_vendor(method, "error")
        if fault is None:
            return None
        detail = fault.detail
        response = slack_error(
            str(detail.get("error", "internal_error")), int(detail.get("status", 200))
        )
        return response, bool(detail.get("posted", False))

    # -- methods --------------------------------------------------------------------------
    def _auth_test(self, request: Request) -> Response:
        scripted = self._scripted_error("auth.test")
        if scripted is not None:
            return scripted[0]
        response = _ok(
            {
                "url": ws.TEAM_URL,
                "team": ws.TEAM_NAME,
                "user": ws.BOT_NAME,
                "team_id": ws.TEAM_ID,
                "user_id": ws.BOT_USER_ID,
                "bot_id": ws.BOT_ID,
                "is_enterprise_install": False,
            }
        )
        # Slack lists the token's scopes in this header on its answers (here: auth.test's).
        response.headers["x-oauth-scopes"] = ",".join(sorted(self._scopes(request)))
        return response

    def _lookup_by_email(self, request: Request) -> Response:
        scripted = self._scripted_error("users.lookupByEmail")
        if scripted is not None:
            return scripted[0]
        email = str(arguments(request).get("email", "")).strip()
        if not email:
            return slack_error("invalid_arguments")
        user = self.workspace.user_by_email(email)
        if user is None:
            return slack_error("users_not_found")
        return _ok({"user": user.as_json()})

    def _conversations_list(self, request: Request) -> Response:
        scripted = self._scripted_error("conversations.list")
        if scripted is not None:
            return scripted[0]
        args = arguments(request)
        types = [t.strip() for t in str(args.get("types") or "public_channel").split(",")]
        if any(t not in CHANNEL_TYPES for t in types):
            return slack_error("invalid_types")
        scopes = self._scopes(request)
        if "private_channel" in types and "groups:read" not in scopes:
            return slack_error("missing_scope", needed="groups:read")
        paging = _paging(args, LIST_LIMIT_MAX)
        if isinstance(paging, Response):
            return paging
        start, limit = paging
        visible = [
            c
            for c in self.workspace.conversations.values()
            if _listed(c, types, _flag(args.get("exclude_archived", False)))
        ]
        page = visible[start : start + limit]
        after = start + len(page)
        next_cursor = _encode_cursor(after) if after < len(visible) else ""
        return _ok(
            {
                "channels": [c.as_json() for c in page],
                "response_metadata": {"next_cursor": next_cursor},
            }
        )

    def _conversations_open(self, request: Request) -> Response:
        """The bot's DM with one person (`users`: one user id): opened if new, as Slack does."""
        scripted = self._scripted_error("conversations.open")
        if scripted is not None:
            return scripted[0]
        users = [u.strip() for u in str(arguments(request).get("users") or "").split(",") if u]
        if not users:
            return slack_error("users_list_not_supplied")
        if len(users) > 1:
            return slack_error("not_enough_users")  # a group DM (mpim) is not emulated
        user = self.workspace.users.get(users[0])
        if user is None:
            return slack_error("user_not_found")
        if user.deleted:
            return slack_error("user_disabled")
        with self.workspace.lock:
            conversation = self.workspace.dm_with(user.id)
        return _ok({"channel": {"id": conversation.id}})

    def _conversations_history(self, request: Request) -> Response:
        """Messages of one conversation, newest first, between `oldest` and `latest`."""
        scripted = self._scripted_error(HISTORY)
        if scripted is not None:
            return scripted[0]
        args = arguments(request)
        conversation = self.workspace.conversations.get(str(args.get("channel", "")).strip())
        if conversation is None or (conversation.is_private and not conversation.is_member):
            return slack_error("channel_not_found")
        kind = "im" if conversation.is_im else "private" if conversation.is_private else "public"
        needed = HISTORY_SCOPE[kind]
        if needed not in self._scopes(request):
            return slack_error("missing_scope", needed=needed)
        if not conversation.is_member:
            return slack_error("not_in_channel")
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or time.time() + 1)
        except ValueError:
            return slack_error("invalid_arguments")
        paging = _paging(args, HISTORY_LIMIT_MAX)
        if isinstance(paging, Response):
            return paging
        start, limit = paging
        inclusive = _flag(args.get("inclusive", False))
        with self.workspace.lock:
            found = [
                m
                for m in reversed(self.workspace.messages)
                if m.channel == conversation.id
                and (
                    oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest
                )
            ]
        page = found[start : start + limit]
        after = start + len(page)
        more = after < len(found)
        metadata = _flag(args.get("include_all_metadata", False))
        return _ok(
            {
                "messages": [_history_entry(m, metadata) for m in page],
                "has_more": more,
                "pin_count": 0,
                "response_metadata": {"next_cursor": _encode_cursor(after) if more else ""},
            }
        )

    def _post_message(self, request: Request) -> Response:
        args = arguments(request)
        if "__invalid__" in args:
            return slack_error("invalid_json")
        target = self._conversation(str(args.get("channel", "")).strip(), self._scopes(request))
        if isinstance(target, Response):
            return target
        limited = self._channel_limit(target.id)
        if limited is not None:
            return limited
        text = str(args.get("text") or "")
        try:
            blocks = _json_arg(args["blocks"]) if args.get("blocks") else None
            metadata = _json_arg(args["metadata"]) if args.get("metadata") else None
        except ValueError:
            return slack_error("invalid_blocks")
        refusal = _content_problem(text, blocks, metadata)
        if refusal is not None:
            return slack_error(refusal)
        posted = Posted(
            target.id,
            str(args.get("channel")),
            self.workspace.next_ts(),
            text,
            blocks,
            metadata,
            time.time(),
        )
        scripted = self._scripted_error(POST)
        if scripted is not None:
            response, keep = scripted
            if keep:
                self.workspace.messages.append(posted)
            return response
        self.workspace.messages.append(posted)
        response = _ok(
            {
                "channel": target.id,
                "ts": posted.ts,
                "message": {
                    "type": "message",
                    "subtype": "bot_message",
                    "text": text,
                    "user": ws.BOT_USER_ID,
                    "bot_id": ws.BOT_ID,
                    "ts": posted.ts,
                    "team": ws.TEAM_ID,
                    **({"blocks": blocks} if blocks else {}),
                    **({"metadata": metadata} if metadata else {}),
                },
            }
        )
        if self.faults.take_vendor(POST, "lost_answer") is not None:
            response.headers[DROP_HEADER] = "1"
        return response

    def _conversation(self, channel: str, scopes: frozenset[str]) -> Conversation | Response:
        """Where a post with this `channel` argument lands, or Slack's refusal."""
        workspace = self.workspace
        if channel in workspace.users:
            user = workspace.users[channel]
            if user.deleted:
                return slack_error("user_disabled")
            return workspace.dm_with(user.id)
        found = workspace.conversations.get(channel) or (
            workspace.channel_by_name(channel) if channel else None
        )
        if found is None or (found.is_private and not found.is_member):
            return slack_error("channel_not_found")
        if found.is_archived:
            return slack_error("is_archived")
        if not found.is_member and "chat:write.public" not in scopes:
            return slack_error("not_in_channel")
        return found

    # -- admin API for tests ---------------------------------------------------------------
    def reset(self) -> None:
        """The default workspace and token, no messages, no faults, quotas at their rules."""
        with self.state_lock:
            self.workspace = default_workspace()
            self.tokens = {ws.BOT_TOKEN: ws.BOT_SCOPES}
            self.revoked_tokens.clear()
            self.per_channel_posts = PER_CHANNEL_POSTS
            self._channel_quotas.clear()
            self.faults.clear()
            self.quotas.set_rules(self.default_quota_rules())
            self.traffic.reset()

    @property
    def messages(self) -> list[Posted]:
        with self.workspace.lock:
            return list(self.workspace.messages)

    def messages_in(self, channel: str) -> list[Posted]:
        return self.workspace.messages_in(channel)

    def dump_state(self) -> dict[str, Any]:
        return {"messages": [m.__dict__ for m in self.messages]}


def _listed(conversation: Conversation, types: list[str], exclude_archived: bool) -> bool:
    if exclude_archived and conversation.is_archived:
        return False
    if conversation.is_im:
        return "im" in types
    if conversation.is_private:
        # A bot sees the private channels it was invited to, no others.
        return "private_channel" in types and conversation.is_member
    return "public_channel" in types


def _content_problem(text: str, blocks: Any, metadata: Any) -> str | None:
    if blocks is not None and (
        not isinstance(blocks, list)
        or len(blocks) > MAX_BLOCKS
        or not all(isinstance(b, dict) and b.get("type") for b in blocks)
    ):
        return "invalid_blocks"
    if not text and not blocks:
        return "no_text"
    if len(text) > MAX_TEXT:
        return "msg_too_long"
    if metadata is not None and (not isinstance(metadata, dict) or not metadata.get("event_type")):
        return "invalid_metadata_format"
    return None


def _history_entry(posted: Posted, with_metadata: bool) -> dict[str, Any]:
    """A message as conversations.history lists it; metadata only when asked for."""
    entry: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "text": posted.text,
        "user": ws.BOT_USER_ID,
        "bot_id": ws.BOT_ID,
        "ts": posted.ts,
        "team": ws.TEAM_ID,
    }
    if posted.blocks:
        entry["blocks"] = posted.blocks
    if with_metadata and posted.metadata:
        entry["metadata"] = posted.metadata
    return entry


def _paging(args: dict[str, Any], most: int) -> tuple[int, int] | Response:
    """(offset, limit) of a cursor-paged method (`limit` 1..most, default 100; the opaque
    `cursor` a previous page handed out), or Slack's refusal."""
    try:
        limit = int(args.get("limit") or 100)
    except ValueError:
        return slack_error("invalid_limit")
    if not 1 <= limit <= most:
        return slack_error("invalid_limit")
    start = 0
    if args.get("cursor"):
        decoded = _decode_cursor(str(args["cursor"]))
        if decoded is None:
            return slack_error("invalid_cursor")
        start = decoded
    return start, limit


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"next:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int | None:
    try:
        kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
        return int(number) if kind == "next" and int(number) >= 0 else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
