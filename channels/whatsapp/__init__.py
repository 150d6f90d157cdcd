"""WhatsApp Business (Cloud API): the input channel (`channel.py`, named in credentials.yml as
`channels.whatsapp.WhatsAppInput`), the Graph API client that sends replies (`graph.py`) and the
webhook reader (`webhook.py`); the inbox it records messages in is `crm.services.whatsapp_inbox`."""

from channels.whatsapp.channel import WhatsAppConfigError, WhatsAppInput
from channels.whatsapp.graph import (
    GraphApiError,
    WhatsAppOutput,
    interactive_payloads,
    shorten,
    split_text,
)
from channels.whatsapp.webhook import incoming_messages, message_text, signature_valid

__all__ = [
    "GraphApiError",
    "WhatsAppConfigError",
    "WhatsAppInput",
    "WhatsAppOutput",
    "incoming_messages",
    "interactive_payloads",
    "message_text",
    "shorten",
    "signature_valid",
    "split_text",
]
