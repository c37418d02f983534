"""Placeholder until the emulation lands."""

from sandbox.vendor import VendorApp


class JiraApp(VendorApp):
    name = "jira"

    def routes(self):
        return []
