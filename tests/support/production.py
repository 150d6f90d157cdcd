"""Settings of the production profile as the tests use them (docs/OPERATIONS.md)."""

PRODUCTION = {
    "DATABASE_URL": "postgresql+psycopg2://crm:s3cret@db.internal:5432/crm",
    "TRACKER_STORE_URL": "postgresql+psycopg2://rasa:tr4cker@db.internal:5433/rasa?sslmode=require",
    "REDIS_URL": "redis://:r3dis@cache.internal:6380/2",
    "RASA_REPLICAS": "2",
    "ACTION_SERVERS": "3",
    "RASA_PORT": "5005",
    "ACTION_PORT": "5055",
}
