"""The demo company web page with the chat widget (what `make run` serves on WEBSITE_PORT).

`/` is a sample company page embedding the widget with its one-line snippet; `/widget/` serves
the widget's files, including the socket.io client vendored from npm at install time. A real
company site only needs the snippet and these files.
"""

from __future__ import annotations

import html
import sys

from sanic import Sanic, response
from sanic.request import Request

from crm.privacy import install_log_masking
from crm.settings import PROJECT_ROOT, ConfigError, Settings, load_settings

WEB = PROJECT_ROOT / "web"
VENDORED_CLIENT = WEB / "static" / "vendor" / "socket.io.min.js"


def create_app(settings: Settings, name: str = "crm_website") -> Sanic:
    if not VENDORED_CLIENT.is_file():
        raise ConfigError(
            f"{VENDORED_CLIENT.relative_to(PROJECT_ROOT)} is missing; run `make web` "
            "(npm installs the socket.io client) or `make run`, which does it."
        )
    app = Sanic(name)
    app.static("/widget", str(WEB / "static"), name="widget")
    template = (WEB / "demo" / "index.html").read_text()

    @app.get("/")
    async def demo(request: Request):
        values = {
            "brand_name": settings.brand_name,
            "widget_url": f"{settings.website_url}/widget/widget.js",
            "rasa_url": settings.public_rasa_url,
        }
        page = template
        for key, value in values.items():
            page = page.replace("{{" + key + "}}", html.escape(value, quote=True))
        return response.html(page)

    @app.get("/health")
    async def health(request: Request):
        return response.json({"status": "ok"})

    return app


def main() -> int:
    try:
        settings = load_settings()
        install_log_masking()
        app = create_app(settings)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app.run(host=settings.host, port=settings.website_port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
