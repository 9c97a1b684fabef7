"""`extgw-tui portal`: serve the portal's JSON API (portal_api/) with uvicorn.

Listens on loopback unless told otherwise: in production a TLS reverse proxy (nginx, Caddy)
sits in front and passes the client's address in X-Forwarded-For, which uvicorn trusts from
the addresses in $FORWARDED_ALLOW_IPS (default 127.0.0.1) only. --listen and --workers may also
be given as [portal] listen/workers in config.toml or EXTGW_PORTAL_LISTEN/_WORKERS.

Each worker process opens the database and school chosen here: EXTGW_DB and EXTGW_SCHOOL are
set for them, so with --school every worker serves that school and records it in the audit log.
"""

from __future__ import annotations

import argparse
import os
import socket

from extgw_tui import settings
from extgw_tui.cli import EXIT_OK, resolve_db_url
from extgw_tui.errors import ExtgwError
from extgw_tui.portal_api.config import load_portal_config
from extgw_tui.services import school_settings, schools

DEFAULT_LISTEN = settings.setting("portal.listen").default
APP = "extgw_tui.portal_api.app:create_app"


def parse_listen(value: str) -> tuple[str, int]:
    """ "127.0.0.1:8080" or "[::1]:8080" -> (host, port), or ExtgwError saying why not."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ExtgwError(f"--listen {value!r}: give an address and port, e.g. {DEFAULT_LISTEN}.")
    return host, int(port)


def _check_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise ExtgwError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc


def run(args: argparse.Namespace) -> int:
    import uvicorn

    host, port = parse_listen(settings.value("portal.listen", args.listen))
    workers = settings.value("portal.workers", args.workers)
    if workers < 1 or workers > 64:
        raise ExtgwError("--workers must be from 1 to 64.")
    load_portal_config()  # a wrong [portal] or [settings] table stops here, in one sentence
    school_settings.load()
    _check_free(host, port)
    os.environ["EXTGW_DB"] = resolve_db_url(args)  # each worker process opens it again
    school = schools.current()
    if school is not None:
        os.environ["EXTGW_SCHOOL"] = school.key  # and records it on every audit entry
    else:
        os.environ.pop("EXTGW_SCHOOL", None)
    print(f"extgw-tui portal: listening on http://{host}:{port} (ctrl+c stops)", flush=True)
    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.value("portal.forwarded_allow_ips"),
        server_header=False,
        timeout_graceful_shutdown=15,
        h11_max_incomplete_event_size=16 * 1024,
        log_level="warning",
    )
    return EXIT_OK
