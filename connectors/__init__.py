"""I/O with Zendesk (zenpy), Jira (jira) and Salesforce (simple-salesforce)."""
