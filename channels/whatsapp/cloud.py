"""The Graph API calls made outside a conversation (a plain, blocking client for the campaign
sender and the template commands): send one template message, list and submit message
templates. Errors carry Meta's error code (e.g. 131026 not on WhatsApp, 130429 throttled)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import requests


class CloudError(Exception):
    """The Graph API refused or could not be reached; `code` is Meta's error code (None when the
    API was not reached), `status` the HTTP status (0 when not reached)."""

    def __init__(self, status: int, code: Optional[int], title: str):
        super().__init__(f"Graph API {status or 'unreachable'}: {code or ''} {title}".strip())
        self.status, self.code, self.title = status, code, title

    @property
    def transient(self) -> bool:
        """Worth trying again later: not reached, 5xx, 429 or Meta's throttling codes."""
        return (
            self.status == 0
            or self.status >= 500
            or self.status == 429
            or self.code in (130429, 131056, 131000, 131016)
        )


class CloudApi:
    def __init__(
        self,
        api_url: str,
        access_token: str,
        phone_number_id: str,
        business_account_id: Optional[str] = None,
        timeout: float = 20.0,
    ):
        self.api_url = api_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {access_token}"

    def _call(self, method: str, url: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            answer = self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as failure:
            raise CloudError(0, None, type(failure).__name__)
        try:
            data = answer.json() if answer.content else {}
        except ValueError:
            data = {}
        if answer.status_code >= 300:
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            code = error.get("code") if isinstance(error.get("code"), int) else None
            title = str(error.get("error_user_title") or error.get("message") or answer.reason or "")[:255]
            raise CloudError(answer.status_code, code, title)
        return data if isinstance(data, dict) else {}

    def send(self, message: Dict[str, Any]) -> str:
        """POST /{phone-number-id}/messages; returns the message id (wamid)."""
        data = self._call("POST", f"{self.api_url}/{self.phone_number_id}/messages", json=message)
        messages = data.get("messages") or [{}]
        message_id = str(messages[0].get("id") or "") if isinstance(messages[0], dict) else ""
        if not message_id:
            raise CloudError(200, None, "answer without a message id")
        return message_id

    def _waba(self) -> str:
        if not self.business_account_id:
            raise CloudError(0, None, "WHATSAPP_BUSINESS_ACCOUNT_ID is not set")
        return f"{self.api_url}/{self.business_account_id}/message_templates"

    def templates(self) -> Iterator[Dict[str, Any]]:
        """Every template of the business account (following Meta's paging)."""
        url: Optional[str] = self._waba()
        params: Optional[Dict[str, Any]] = {
            "fields": "name,language,status,category,components,rejected_reason,id",
            "limit": 100,
        }
        while url:
            data = self._call("GET", url, params=params)
            for item in data.get("data") or []:
                if isinstance(item, dict):
                    yield item
            url, params = (data.get("paging") or {}).get("next"), None

    def submit_template(self, payload: Dict[str, Any], meta_id: Optional[str]) -> Dict[str, Any]:
        """Create a template (POST /{waba-id}/message_templates) or edit one (POST /{template-id})."""
        url = f"{self.api_url}/{meta_id}" if meta_id else self._waba()
        return self._call("POST", url, json=payload)
