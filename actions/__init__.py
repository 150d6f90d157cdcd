"""Custom Rasa actions. Thin: read slots, call a `crm.services` function, dispatch a response."""
