"""``vidtrack serve``: the HTTP API, video jobs and the web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vidtrack.config import DEFAULT_MODEL, MODEL_ENV
from vidtrack.errors import VidtrackError, check_option

#: Bytes allowed on top of --max-upload-mb for the multipart headers and option fields.
MULTIPART_SLACK = 64 * 1024


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback requires --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8000,
    token: Annotated[Optional[str], typer.Option(help="Secret every request must carry (Authorization: Bearer, or ?token=).", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option(help=f"Model served (loaded once, shared). Default: ${MODEL_ENV} or {DEFAULT_MODEL}.", show_default=False)] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest upload in MB; bigger ones are refused (413) while they stream in.")] = 200.0,
    jobs_dir: Annotated[Optional[Path], typer.Option(help="Where video jobs and their outputs are kept (survives restarts). Default: ~/.local/share/vidtrack/jobs.", show_default=False)] = None,
    max_jobs: Annotated[int, typer.Option(help="Video jobs run at once; more queue. Each uses the shared model: 1 suits a small machine.")] = 1,
    max_image_mb: Annotated[float, typer.Option(help="Largest image upload in MB (as base64 JSON: 4/3 of it); bigger ones get 413.")] = 20.0,
    image_queue: Annotated[int, typer.Option(help="Image requests that may wait for one of the 2 decode+detect slots; past it: 503 with Retry-After.")] = 8,
    max_queued: Annotated[int, typer.Option(help="Video jobs allowed to wait; past it uploads get 503 with Retry-After.")] = 16,
    jobs_max_mb: Annotated[float, typer.Option(help="Disk the jobs folder may take, uploads and outputs (MB); past it uploads get 507 with Retry-After. Delete finished jobs to free it.")] = 10240.0,
    max_connections: Annotated[int, typer.Option(help="Open connections served at once; a request past it gets 503.")] = 64,
    head_timeout: Annotated[float, typer.Option(help="Seconds a client has to send a request's head; an upload must also keep arriving at 4 KB/s or more. Late or slow clients get 408 and are dropped.")] = 10.0,
    cors_origin: Annotated[Optional[list[str]], typer.Option(help="Allow pages from this origin to call the API (repeatable). CORS is off by default.", show_default=False)] = None,
    review: Annotated[Optional[Path], typer.Option(help="Serve a review page at /review for this folder: a batch output folder, 'vidtrack run' outputs (with --summary) or the jobs folder: events with snapshots and clips, filters, events per hour, heatmaps.", show_default=False)] = None,
) -> None:
    """Serve object detection over HTTP: POST /v1/detect, DeepStack and tag routes, video jobs, and a web page at /."""
    from vidtrack.cli.common import fail

    try:
        server, jobs = build_server(host, port, token, model, max_upload_mb, jobs_dir, max_jobs, cors_origin or [],
                                    max_queued=max_queued, jobs_max_mb=jobs_max_mb, max_connections=max_connections,
                                    head_timeout=head_timeout, max_image_mb=max_image_mb, image_queue=image_queue,
                                    review=review)
    except VidtrackError as exc:
        raise fail(exc)
    shown = server.base_url + "/" + ("?token=..." if token else "")
    typer.echo(f"vidtrack serving {shown}  (API docs: {server.base_url}/docs; Ctrl-C stops)", err=True)
    if review is not None:
        typer.echo(f"review page: {server.base_url}/review" + ("?token=..." if token else ""), err=True)
    try:
        server.serve_forever()
    finally:
        jobs.close()


def build_server(host: str, port: int, token: str | None, model: str | None, max_upload_mb: float,
                 jobs_dir: Path | None, max_jobs: int, cors_origins: list[str], *, max_queued: int = 16,
                 jobs_max_mb: float = 10240.0, max_connections: int = 64, head_timeout: float = 10.0,
                 max_image_mb: float = 20.0, image_queue: int = 8, review: Path | None = None):
    """The bound server and its job manager, everything checked; nothing served yet.

    Raises:
        OptionError: a bad address or limit, a non-loopback host without a token, a port in use.
        ModelError: the model cannot be loaded (with ``review``: at the first request needing it, as 422 JSON).
    """
    from vidtrack.config import DetectorConfig
    from vidtrack.errors import OptionError
    from vidtrack.web.addresses import check_bind

    check_bind(host, port, token, flag="--host")
    check_option(0 <= port <= 65535, "--port", port, "use 1-65535, or 0 for any free port")
    import math

    if not math.isfinite(max_upload_mb) or max_upload_mb <= 0:
        raise OptionError(f"--max-upload-mb {max_upload_mb} must be positive", "use e.g. 200")
    if max_jobs < 1:
        raise OptionError(f"--max-jobs {max_jobs} must be at least 1", "use 1 on a small machine")
    check_option(math.isfinite(max_image_mb) and max_image_mb > 0, "--max-image-mb", max_image_mb, "use e.g. 20")
    check_option(image_queue >= 0, "--image-queue", image_queue, "use 0 or more, e.g. 8")
    check_option(max_connections >= 2, "--max-connections", max_connections, "use 2 or more, e.g. 64")
    check_option(math.isfinite(head_timeout) and head_timeout > 0, "--head-timeout", head_timeout, "use seconds, e.g. 10")
    check_option(max_queued >= 1, "--max-queued", max_queued, "use 1 or more, e.g. 16")
    check_option(math.isfinite(jobs_max_mb) and jobs_max_mb > 0, "--jobs-max-mb", jobs_max_mb, "use a size in MB, e.g. 10240 (10 GB)")
    from vidtrack.runner import execute
    from vidtrack.web.app import create_app
    from vidtrack.web.jobs import JobManager, default_jobs_dir
    from vidtrack.web.server import Server, bind
    from vidtrack.web.service import DetectionService

    from vidtrack.web.review import ReviewIndex

    index = ReviewIndex(review) if review is not None else None  # a bad folder fails before the model loads
    sock = bind(host, port, "--port")  # a taken port fails now, not after the model has loaded
    jobs = None
    try:
        # A review server loads the model only when a detection or a job asks for it.
        service = DetectionService(DetectorConfig(**({"model": model} if model else {})), lazy=index is not None)
        jobs = JobManager(service, jobs_dir or default_jobs_dir(), max_jobs, run=execute, max_queued=max_queued,
                          disk_budget=int(jobs_max_mb * (1 << 20)))
        app = create_app(token=token, allowed_hosts={"127.0.0.1", "localhost", "::1", host.lower()},
                         max_upload_bytes=int(max_upload_mb * (1 << 20)) + MULTIPART_SLACK, service=service, jobs=jobs,
                         cors_origins=cors_origins, max_image_bytes=int(max_image_mb * (1 << 20)),
                         detect_queue=image_queue, review=index)
        server = Server(app, host, port, flag="--port", sock=sock, max_connections=max_connections,
                        head_timeout_s=head_timeout)
    except BaseException:
        sock.close()
        if jobs is not None:
            jobs.close()
        raise
    return server, jobs
