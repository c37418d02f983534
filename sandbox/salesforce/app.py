"""Placeholder until the emulation lands."""

from sandbox.vendor import VendorApp


class SalesforceApp(VendorApp):
    name = "salesforce"

    def routes(self):
        return []
