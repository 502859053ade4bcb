"""`wsparcie serve`: the site under waitress, a production WSGI server that also runs on Windows."""
from __future__ import annotations

import click


@click.command("serve")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
def serve_cmd(port: int, host: str, threads: int) -> None:
    """Serve the site and the API (settings from the environment, schema upgraded on start)."""
    from waitress import serve

    from webapp import create_app

    app = create_app()
    click.echo(f"Mapa Wsparcia: http://{host}:{port}/", err=True)
    serve(app, host=host, port=port, threads=threads, ident="mapa-wsparcia")


commands = [serve_cmd]
