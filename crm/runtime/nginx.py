"""nginx in front of several Rasa servers and action servers (the production profile).

`make run` with RASA_REPLICAS or ACTION_SERVERS above 1 writes this configuration under var/run
and runs Debian's nginx in the foreground as one more supervised child. nginx listens where a
single server would (RASA_PORT, ACTION_PORT), so the website, WhatsApp, the console and Rasa's
action endpoint do not change.

- Rasa: HTTP requests (REST, WhatsApp webhooks) are spread by conversation, read from the body
  (`sender`, WhatsApp's `from`; the client address otherwise, e.g. the console's API calls), so
  a conversation's messages reach the replica that keeps its tracker in memory. Any replica can
  still answer any conversation (the tracker store is shared and Rasa's Redis lock store keeps
  its messages in order), e.g. when one is down. socket.io connections are pinned by client
  address (`ip_hash`), so the polling fallback finds its session; replies emitted by another
  replica reach the socket through Redis (channels/website.py).
- A server that refuses or drops a connection is skipped for 5 s and the request goes to the next
  one (see the comments in the configuration for which requests are repeated).
- No access log: URLs carry the WhatsApp verify token and the logs must not hold customer data.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

from crm import policy
from crm.settings import ConfigError, Settings


def find_nginx(setting: str) -> str:
    found = shutil.which(setting) or shutil.which(setting, path="/usr/sbin:/sbin")
    if not found:
        raise ConfigError(
            f"RASA_REPLICAS/ACTION_SERVERS put nginx in front, but {setting!r} is not installed: "
            "apt-get install nginx-light (or set NGINX_BIN)."
        )
    return found


def _servers(host: str, ports: Iterable[int]) -> str:
    return "\n".join(f"        server {host}:{port} max_fails=1 fail_timeout=5s;" for port in ports)


def render(settings: Settings, run_dir: Path, log_dir: Path) -> str:
    host = settings.host
    temp = run_dir / "nginx-temp"
    proof_limit = f"{policy.MAX_PROOF_BYTES // (1024 * 1024) + 1}m"  # the body and its headers
    return f"""# written by `make run` (crm/runtime/nginx.py) for this start; edit the settings, not this file
worker_processes 1;
daemon off;
pid {run_dir / "nginx.pid"};
error_log {log_dir / "nginx-error.log"} warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    client_max_body_size 2m;
    # bodies and answers stay in memory: as root, nginx's workers run as nobody and could not
    # write to temp folders under var/run
    client_body_buffer_size 2m;
    proxy_max_temp_file_size 0;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    # the conversation a message belongs to: "sender" (REST, the website's proof upload) or
    # "from" (WhatsApp) in the body, else the client's address. A conversation's messages go to
    # one replica, which keeps its tracker in memory (crm/runtime/tracker_store.py).
    map $request_body $conversation {{
        '~"(?:sender|from)"\\s*:\\s*"(?<id>[^"]+)"' $id;
        default $remote_addr;
    }}

    upstream rasa {{
        hash $conversation consistent;
{_servers(host, settings.rasa_ports)}
        keepalive 64;
    }}

    upstream rasa_sockets {{
        ip_hash;
{_servers(host, settings.rasa_ports)}
    }}

    upstream actions {{
{_servers(host, settings.action_ports)}
        keepalive 64;
    }}

    server {{
        listen {host}:{settings.rasa_port};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        # a replica that refuses or drops the connection (killed, restarting): the message goes to
        # the next one, even a POST, because a replica that died mid-message has not saved it
        # (Rasa saves the tracker once, at the end). A slow replica is not retried (no `timeout`),
        # so a message is never handled twice because one server was only slow.
        proxy_next_upstream error non_idempotent;
        proxy_connect_timeout 2s;

        location /socket.io/ {{
            proxy_pass http://rasa_sockets;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 3600s;
        }}

        # a payment proof from the website (a photo or PDF, up to crm.policy.MAX_PROOF_BYTES)
        location = /webhooks/socketio/proof {{
            client_max_body_size {proof_limit};
            client_body_buffer_size {proof_limit};
            proxy_pass http://rasa;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }}

        location / {{
            proxy_pass http://rasa;
            proxy_set_header Connection "";
            proxy_read_timeout 120s;
        }}
    }}

    server {{
        listen {host}:{settings.action_port};
        proxy_http_version 1.1;
        # an action call already sent is not repeated (an action may have written to the database);
        # Rasa's launcher apologises and queues the conversation instead (crm/runtime/rasa_server.py)
        proxy_next_upstream error timeout;
        proxy_connect_timeout 2s;

        location / {{
            proxy_pass http://actions;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def write_config(settings: Settings, run_dir: Path, log_dir: Path) -> Path:
    """Write var/run/nginx.conf and its temp folders; returns the path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "nginx-temp" / name).mkdir(parents=True, exist_ok=True)
    path = run_dir / "nginx.conf"
    path.write_text(render(settings, run_dir.resolve(), log_dir.resolve()))
    return path
