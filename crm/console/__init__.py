"""The CRM console: the staff web app for the escalation queue and live takeover."""
