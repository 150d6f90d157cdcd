"""Custom Rasa input channels (configured in credentials.yml by their module path)."""
