"""Domain services: the only way actions and the console touch the database."""
