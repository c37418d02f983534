"""The `join:` section: how a ticket finds its account, as an ordered list of strategies.

The first strategy that finds exactly one account wins. Each strategy reads one join key that
normalisation puts into `Ticket.join_keys` under `strategy.key`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import RelativeProblem, StrictModel
from vocabulary.paths import SourcePath, parse_source_path

AccountMatch = Literal["id", "external_id", "name"]

# Domains of free mail providers say nothing about the customer.
FREE_MAIL_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
)


class AccountIdField(StrictModel):
    """The ticket's own `account_id` attribute (mapping.<system>.ticket.account_id)."""

    strategy: Literal["account_id_field"]
    match: AccountMatch = "id"

    @property
    def key(self) -> str:
        return "account_id"


class OrganizationExternalId(StrictModel):
    """The external_id of the Zendesk organisation of the ticket."""

    strategy: Literal["organization_external_id"]
    match: AccountMatch = "id"

    @property
    def key(self) -> str:
        return "organization_external_id"


class OrganizationField(StrictModel):
    """A field of the Zendesk organisation (its key in organization_fields)."""

    strategy: Literal["organization_field"]
    field: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    match: AccountMatch = "id"

    @property
    def key(self) -> str:
        return f"organization_field:{self.field}"

    @property
    def path(self) -> SourcePath:
        return parse_source_path(f"organization.organization_fields.{self.field}")


class JiraField(StrictModel):
    """A field of the Jira issue, e.g. fields.customfield_10050 or fields.customfield_10050.value."""

    strategy: Literal["jira_field"]
    source: str
    match: AccountMatch = "id"

    @field_validator("source")
    @classmethod
    def _parse(cls, value: str) -> str:
        parse_source_path(value)
        return value

    @property
    def key(self) -> str:
        return f"jira_field:{self.source}"

    @property
    def path(self) -> SourcePath:
        return parse_source_path(self.source)


class EmailDomain(StrictModel):
    """The requester's email domain, against the domains of the accounts."""

    strategy: Literal["email_domain"]
    ignore_domains: list[str] = Field(default_factory=lambda: list(FREE_MAIL_DOMAINS))

    @field_validator("ignore_domains")
    @classmethod
    def _lower(cls, domains: list[str]) -> list[str]:
        return [domain.strip().lower() for domain in domains]

    @property
    def key(self) -> str:
        return "email_domain"

    @property
    def match(self) -> str:
        return "domains"


class LinkedTicket(StrictModel):
    """A ticket no other strategy matched takes the account of the tickets linked to it, when
    they agree on one (a Jira issue reaches its customers through the Zendesk tickets it is
    linked to). Applied after the other strategies, whatever its place in the list."""

    strategy: Literal["linked_ticket"]

    @property
    def key(self) -> str:
        return "linked_ticket"

    @property
    def match(self) -> str:
        return "id"


JoinStrategy = Annotated[
    AccountIdField
    | OrganizationExternalId
    | OrganizationField
    | JiraField
    | EmailDomain
    | LinkedTicket,
    Field(discriminator="strategy"),
]


def default_join() -> list[JoinStrategy]:
    return [
        AccountIdField(strategy="account_id_field"),
        OrganizationExternalId(strategy="organization_external_id"),
        EmailDomain(strategy="email_domain"),
    ]


def join_problems(strategies: list[JoinStrategy]) -> list[RelativeProblem]:
    """The same strategy (same key) twice is a mistake: the second can never match."""
    problems: list[RelativeProblem] = []
    seen: dict[str, int] = {}
    for index, strategy in enumerate(strategies):
        if strategy.key in seen:
            problems.append(
                (
                    (index,),
                    f"repeats join[{seen[strategy.key]}] ({strategy.key}); expected each strategy once",
                )
            )
        seen.setdefault(strategy.key, index)
    return problems
