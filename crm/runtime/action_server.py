"""`python -m crm.runtime.action_server`: rasa-sdk's action server, accepting calls only from our Rasa.

- It binds to CRM_HOST (loopback by default), so other machines cannot reach it at all.
- Every call but GET /health must carry ACTION_SERVER_TOKEN as `?token=` (Rasa adds it from
  `action_endpoint.token` in endpoints.yml); otherwise 401. `make run` makes a random token
  per start when the setting is empty, so only the Rasa server it starts knows it.
- A body that is not a JSON object is answered 400, not rasa-sdk's 500.
- Personal data is masked in its log lines (`crm.privacy`).
- Idle connections are kept ACTION_SERVER_KEEP_ALIVE_S: the Rasa server reuses them for its
  calls and closes an idle one sooner (crm.runtime.rasa_server.ACTION_KEEP_ALIVE_S).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

from crm.privacy import install_log_masking
from crm.settings import load_settings

logger = logging.getLogger(__name__)

OPEN_PATHS = ("/health",)
ACTION_SERVER_KEEP_ALIVE_S = 15.0


def create_app(token: Optional[str], actions_package: str = "actions") -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    if not token:
        raise SystemExit(
            "ACTION_SERVER_TOKEN is empty: the action server would accept calls from anyone. "
            "Set it (`make run` sets a random one for each start)."
        )
    app = create_sdk_app(actions_package, cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = ACTION_SERVER_KEEP_ALIVE_S

    @app.middleware("request")
    async def only_rasa(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get("token") or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            logger.warning("action server: call to %s without the right token refused", request.path)
            return response.json({"error": "unauthorised: this server only answers the CRM Rasa server"}, status=401)
        if request.method == "POST":
            try:
                body = json.loads(request.body or b"")
            except ValueError:
                return response.json({"error": "the body is not valid JSON"}, status=400)
            if not isinstance(body, dict) or not isinstance(body.get("next_action"), str):
                return response.json({"error": "expected a JSON object with next_action"}, status=400)
        return None

    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    settings = load_settings()
    install_log_masking()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings.action_server_token, args.actions)
    port = args.port or settings.action_port
    logger.info("action server on http://%s:%d (token required)", settings.host, port)
    app.run(settings.host, port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
