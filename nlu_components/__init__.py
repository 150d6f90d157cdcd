"""Custom Rasa NLU components of the project (referenced from config.yml by module path)."""
