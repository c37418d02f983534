"""The `mapping:` section: per system, how records are read and where our outputs are written."""

from __future__ import annotations

from pydantic import Field

from config.account_mapping import SalesforceAccountMatrix, ZendeskOrganizationWrite
from config.base import RelativeProblem, StrictModel
from config.read_mapping import JiraTicketRead, SalesforceAccountRead, ZendeskTicketRead
from config.write_mapping import (
    JiraWrite,
    SalesforceAccountWrite,
    SalesforceTicketRecord,
    ZendeskWrite,
)

URL_PLACEHOLDERS = ("{base_url}", "{id}", "{key}")


class _TicketSystemMapping(StrictModel):
    # Where a person opens the ticket; placeholders {base_url} (the connection URL), {id}, {key}.
    ticket_url: str

    def config_problems(self) -> list[RelativeProblem]:
        try:
            self.ticket_url.format(base_url="", id="", key="")
        except (KeyError, IndexError, ValueError):
            expected = ", ".join(URL_PLACEHOLDERS)
            message = (
                f"found '{self.ticket_url}'; expected a URL using only the placeholders {expected}"
            )
            return [(("ticket_url",), message)]
        return []


class ZendeskMapping(_TicketSystemMapping):
    ticket: ZendeskTicketRead = Field(default_factory=ZendeskTicketRead)
    write: ZendeskWrite = Field(default_factory=ZendeskWrite)
    # Tags we add, one per level (prefix + level name); null: no tags. Setting tags replaces
    # them all in Zendesk, so only tags with this prefix are ever touched.
    tags_prefix: str | None = Field(default="escalation_", pattern=r"^[a-z0-9_\-/]+$")
    private_note_on_level_change: bool = True
    # provision makes one shared view per escalated level ("Escalated: <level>", open tickets
    # at that level, SLA due soonest first) and doctor warns when one is missing; false: neither.
    level_views: bool = True
    ticket_url: str = "{base_url}/agent/tickets/{id}"
    organization: ZendeskOrganizationWrite | None = None  # the account matrix's level


class JiraMapping(_TicketSystemMapping):
    ticket: JiraTicketRead = Field(default_factory=JiraTicketRead)
    write: JiraWrite = Field(default_factory=JiraWrite)
    ticket_url: str = "{base_url}/browse/{key}"


class SalesforceMapping(StrictModel):
    account: SalesforceAccountRead = Field(default_factory=SalesforceAccountRead)
    write: SalesforceAccountWrite = Field(default_factory=SalesforceAccountWrite)
    ticket_record: SalesforceTicketRecord | None = None
    account_matrix: SalesforceAccountMatrix | None = None  # what matrix.accounts writes
    # A SOQL condition limiting which accounts are read, e.g. "Type = 'Customer'".
    where: str | None = None


class MappingConfig(StrictModel):
    zendesk: ZendeskMapping = Field(default_factory=ZendeskMapping)
    jira: JiraMapping = Field(default_factory=JiraMapping)
    salesforce: SalesforceMapping = Field(default_factory=SalesforceMapping)
