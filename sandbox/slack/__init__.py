"""A Slack Web API emulation for the notification channel (see app.py)."""
