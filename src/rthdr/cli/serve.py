"""`rthdr serve`: the page and the REST API; flags given win over the RTHDR_* settings."""

from __future__ import annotations

import argparse

from rthdr.cli.common import Commands, add_command, add_model


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "serve",
        run,
        help="serve the web page and the REST API",
        description="Serve the drawing page at / and the API at /api/v1 (OpenAPI docs at /docs). "
        "Every RTHDR_* setting can also come from the environment (docs/deployment.md lists them).",
        epilog="examples:\n  rthdr serve                          # http://127.0.0.1:8000\n"
        "  rthdr serve --host 0.0.0.0 --port 80 --workers 4",
    )
    parser.add_argument(
        "--host", default=None, help="address to listen on (default: $RTHDR_HOST or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: $RTHDR_PORT or 8000)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: $RTHDR_WORKERS, or 0 = one per available CPU)",
    )
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    add_model(parser)


def run(args: argparse.Namespace) -> int:
    from rthdr.api.server import serve
    from rthdr.api.settings import get_settings

    settings = get_settings()  # RTHDR_* variables; flags given on the command line win
    return serve(
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=settings.workers if args.workers is None else args.workers,
        model=args.model,
        reload=args.reload,
    )
