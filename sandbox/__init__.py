"""A local emulation of the Zendesk, Jira and Salesforce APIs, served over TLS on loopback."""
