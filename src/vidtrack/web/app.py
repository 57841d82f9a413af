"""The ASGI application: HTTP API, pages and live view in one FastAPI app.

``create_app`` wires in what the server has: a :class:`DetectionService` (the image
routes), a :class:`JobManager` (video jobs) and a :class:`LiveHub` (``vidtrack run
--serve``). Routes whose part is missing answer 404 with the fix. Every error, from a
route, the framework or the guard, is JSON ``{"error", "fix"}``.
"""

from __future__ import annotations

import binascii
import html
import json
import logging
import secrets
from urllib.parse import quote
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from vidtrack.errors import OptionError, VidtrackError, in_terms_of
from vidtrack.options import OPTIONS, check_value, json_schema
from vidtrack.web.live import BOUNDARY, LiveHub
from vidtrack.web.security import Guard
from vidtrack.web.service import deepstack_payload, detect_payload, tags_payload
from vidtrack.web.uploads import UploadError, decode_image

if TYPE_CHECKING:
    from vidtrack.web.review import ReviewIndex
    from vidtrack.web.jobs import JobManager
    from vidtrack.web.service import DetectionService

log = logging.getLogger(__name__)

#: ``/v1/detect`` options and their types (names as in ``vidtrack run``).
DETECT_OPTIONS: dict[str, type] = {name: OPTIONS[name].kind for name in ("conf", "iou", "classes", "max_det", "single")}
#: DeepStack's default ``min_confidence``.
DEEPSTACK_MIN_CONFIDENCE = 0.45
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
#: Image requests whose bodies may be held while they wait for a decode+detect slot
#: (:data:`vidtrack.web.service.DETECT_SLOTS`); past it: 503 with Retry-After.
DETECT_QUEUE = 8
#: Largest image upload by default, in bytes (videos have their own, far larger cap).
MAX_IMAGE_BYTES = 20 << 20
#: Routes that take one image (their body cap is the image cap).
IMAGE_ROUTES = ("/v1/detect", "/v1/vision/detection", "/v1/tags")
#: Seconds a client is told to wait when every image slot and queue place is taken.
BUSY_RETRY_S = 2


def api_error(status: int, error: str, fix: str, headers: dict[str, str] | None = None) -> HTTPException:
    """An HTTPException whose JSON body is ``{"error": error, "fix": fix}``."""
    return HTTPException(status, {"error": error, "fix": fix}, headers=headers)


def image_body_cap(max_image_bytes: int) -> int:
    """The request body cap of the image routes: the image as base64 in JSON, plus form slack."""
    return max_image_bytes * 4 // 3 + 64 * 1024


def _page(name: str, nonce: str, config: dict[str, Any]) -> str:
    """A page from ``web/static`` with its CSP nonce and a JSON config made inert inside <script>."""
    text = resources.files("vidtrack.web").joinpath("static", name).read_text(encoding="utf-8")
    config_js = json.dumps(config).replace("<", "\\u003c")
    return text.replace("{nonce}", html.escape(nonce)).replace("{config_js}", config_js)


def _page_response(name: str, config: dict[str, Any]) -> Response:
    nonce = secrets.token_urlsafe(16)
    csp = (
        f"default-src 'none'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
        f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'"
    )
    return Response(_page(name, nonce, config), media_type="text/html; charset=utf-8",
                    headers={**NO_STORE, "Content-Security-Policy": csp})


def _coerce(name: str, value: Any) -> Any:
    """A form field or JSON value for run option ``name``, by the option table's checker (422 when bad)."""
    try:
        return check_value(name, value)
    except OptionError as exc:
        exc = in_terms_of(exc, "http")  # conf='abc', not --conf 'abc'
        raise api_error(422, exc.problem, exc.fix or "see the fields at /docs") from None


def create_app(
    *,
    token: str | None = None,
    allowed_hosts: Iterable[str] = ("127.0.0.1", "localhost", "::1"),
    max_upload_bytes: int | None = None,
    service: "DetectionService | None" = None,
    jobs: "JobManager | None" = None,
    live: LiveHub | None = None,
    cors_origins: Iterable[str] = (),
    max_image_bytes: int = MAX_IMAGE_BYTES,
    detect_queue: int = DETECT_QUEUE,
    review: "ReviewIndex | None" = None,
) -> FastAPI:
    """Build the application.

    Args:
        token: secret every request must carry; None for loopback-only servers.
        allowed_hosts: Host header names accepted without a token.
        max_upload_bytes: request body cap (413 past it); None for none.
        service: the shared model (image routes, page); None: those routes answer 404.
        jobs: the video-job manager; None: job routes answer 404.
        live: the live sources of ``vidtrack run --serve``; None: /live, /stats and streams 404.
        cors_origins: origins allowed to call the API from their pages (CORS off when empty).
        max_image_bytes: largest image upload (413 past it; its base64 JSON may be 4/3 of it).
        detect_queue: image requests allowed to wait for a decode+detect slot (503 past it).
        review: the runs of ``vidtrack serve --review DIR``; None: /review and its routes 404.
    """
    app = FastAPI(
        title="vidtrack",
        summary="Object detection and tracking: images, video jobs and live views.",
        docs_url=None,  # our own /docs page below: Swagger UI would load from a CDN (blank offline)
        redoc_url=None,
    )
    _errors(app)
    _pages(app, service, live, token)
    if live is not None:
        _live_routes(app, live)
    _api_routes(app, service, jobs, max_image_bytes, detect_queue)
    if review is not None:
        _review_routes(app, review, token)
    origins = list(cors_origins)
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(Guard, token=token, allowed_hosts=allowed_hosts, max_body=max_upload_bytes,
                       cors_origins=origins,
                       route_caps={path: image_body_cap(max_image_bytes) for path in IMAGE_ROUTES})
    return app


# ------------------------------------------------------------------ errors


def _errors(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict) and "error" in detail:
            body = {"error": str(detail["error"]), "fix": str(detail.get("fix", ""))}
        elif exc.status_code == 404:
            body = {"error": f"not found: {request.url.path}", "fix": "see /docs for the routes"}
        elif exc.status_code == 405:
            body = {"error": f"{request.method} is not allowed on {request.url.path}", "fix": "see /docs for the routes"}
        else:
            body = {"error": str(detail), "fix": "see /docs for the routes and their parameters"}
        return JSONResponse(body, exc.status_code, headers={**NO_STORE, **(exc.headers or {})})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"invalid request: {where}: {first.get('msg', 'bad value')}",
                             "fix": "see /docs for the parameters"}, 422, headers=NO_STORE)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return JSONResponse({"error": "the request body is nested too deeply",
                             "fix": "send the documented shape (see /docs)"}, 400, headers=NO_STORE)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette still logs the traceback; the client gets JSON, never a text/plain 500
        return JSONResponse({"error": f"internal error ({type(exc).__name__})", "fix": "see the server log; try again"},
                            500, headers=NO_STORE)

    @app.exception_handler(VidtrackError)
    async def vidtrack_error(request: Request, exc: VidtrackError) -> JSONResponse:
        status = exc.status if isinstance(exc, UploadError) else 422
        extra = exc.headers if isinstance(exc, UploadError) else {}
        exc = in_terms_of(exc, "http")  # fields, not CLI flags: conf=2, not --conf 2
        return JSONResponse({"error": exc.problem, "fix": exc.fix or ""}, status, headers={**NO_STORE, **extra})


# ------------------------------------------------------------------ pages


def _pages(app: FastAPI, service: "DetectionService | None", live: LiveHub | None, token: str | None) -> None:
    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        if service is None:
            if live is not None:
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(f"/live{query}", 307, headers=NO_STORE)
            raise api_error(404, "no model in this server", "start it with 'vidtrack serve'")
        return _page_response("index.html", {"model": service.model_name, "jobs": True, "token": token or ""})

    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> Response:
        """The API reference, rendered in the browser from /openapi.json: nothing loads from
        outside this server (offline boxes), and on a token server the page sends the token."""
        return _page_response("docs.html", {"spec": "/openapi.json", "token": token or ""})

    @app.get("/live", include_in_schema=False)
    async def live_page() -> Response:
        if live is None:
            raise api_error(404, "no live sources in this server", "start one with 'vidtrack run SOURCE --serve PORT'")
        return _page_response("live.html", {"query": f"?token={quote(token)}" if token else ""})


def _live_routes(app: FastAPI, live: LiveHub) -> None:
    @app.get("/stats", summary="Live sources: fps, frame age p50/p95, counts per class, state")
    async def stats() -> JSONResponse:
        return JSONResponse(live.stats(), headers=NO_STORE)

    @app.get("/stream/{source_id:int}.mjpg", summary="A live source's annotated video as MJPEG")
    async def stream(source_id: int) -> StreamingResponse:
        if not live.has_source(source_id):
            raise api_error(404, f"no live source {source_id}", "see /stats for the sources")
        return StreamingResponse(live.jpeg_parts(source_id), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                                 headers=NO_STORE)


# ------------------------------------------------------------------ API


async def _image_and_options(request: Request, names: Iterable[str], max_image_bytes: int) -> tuple[bytes, dict[str, Any]]:
    """The image bytes and the raw option values of a multipart or JSON request (query string too).

    A JSON body's base64 is decoded holding at most about two copies of the body at once
    (body, then its text, then its bytes, each dropped when the next exists).

    Raises:
        HTTPException: 413 an image over ``max_image_bytes``; 415/422/400 a body of the wrong shape.
    """
    fields: dict[str, Any] = dict(request.query_params)
    fields.pop("token", None)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: bytes | None = None
    if kind == "multipart/form-data" or kind == "application/x-www-form-urlencoded":
        form = await request.form(max_files=1, max_fields=32)
        upload = form.get("image")
        if isinstance(upload, UploadFile):
            if upload.size is not None and upload.size > max_image_bytes:
                raise _image_too_large(max_image_bytes)
            data = await upload.read()
        for key, value in form.items():
            if key != "image" and isinstance(value, str):
                fields[key] = value
    elif kind == "application/json":
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
        try:
            text = body.decode("utf-8")  # json.loads would decode bytes itself and keep them meanwhile
        except UnicodeDecodeError:
            raise api_error(422, "the JSON body is not UTF-8", 'send {"image": {"base64": "..."}}') from None
        finally:
            del body
        try:
            parsed = json.loads(text)
        except RecursionError:
            raise api_error(400, "the JSON body is nested too deeply", 'send {"image": {"base64": "..."}}') from None
        except ValueError:
            raise api_error(422, "the JSON body does not parse", 'send {"image": {"base64": "..."}}') from None
        finally:
            del text
        if not isinstance(parsed, dict):
            raise api_error(422, "the JSON body is not an object", 'send {"image": {"base64": "..."}}')
        image = parsed.pop("image", None)
        encoded = image.pop("base64", None) if isinstance(image, dict) else None
        del image
        if not isinstance(encoded, str):
            raise api_error(422, "image.base64 is missing", 'send {"image": {"base64": "<the file, base64>"}}')
        try:
            raw = encoded.encode("ascii")
        except UnicodeEncodeError:
            raise api_error(422, "image.base64 is not valid base64", "encode the file's bytes with standard base64") from None
        del encoded  # the text goes before the bytes are decoded: two copies at most
        data = _decode_base64(raw)
        del raw
        if len(data) > max_image_bytes:
            raise _image_too_large(max_image_bytes)
        fields.update(parsed)
    else:
        raise api_error(415, f"content type {kind or 'none'} is not accepted",
                        "send multipart/form-data with an 'image' file, or JSON {\"image\": {\"base64\": ...}}")
    if data is None:
        raise api_error(422, "no 'image' file in the form", "send the file as the multipart field 'image'")
    known = set(names)
    return data, {k: v for k, v in fields.items() if k in known}


def _decode_base64(raw: bytes) -> bytes:
    """Standard base64 bytes (a ``data:...;base64,`` prefix allowed) decoded, without copying the input."""
    start = raw.index(b",") + 1 if raw.startswith(b"data:") and b"," in raw[:200] else 0
    try:
        return binascii.a2b_base64(memoryview(raw)[start:], strict_mode=True)
    except (binascii.Error, ValueError):
        raise api_error(422, "image.base64 is not valid base64", "encode the file's bytes with standard base64") from None


def _image_too_large(limit: int) -> HTTPException:
    return api_error(413, f"the image upload is over the {limit / (1 << 20):g} MB image limit",
                     "send a smaller file, or start the server with a larger --max-image-mb")


def _api_routes(app: FastAPI, service: "DetectionService | None", jobs: "JobManager | None",
                max_image_bytes: int = MAX_IMAGE_BYTES, detect_queue: int = DETECT_QUEUE) -> None:
    admitted = [0]  # image requests past the door (the event loop is one thread: no lock needed)

    def need_service() -> "DetectionService":
        if service is None:
            raise api_error(404, "this server has no model (a live view only)", "use 'vidtrack serve' for the API")
        return service

    async def detect(request: Request, option_names: Iterable[str] = DETECT_OPTIONS,
                     renames: dict[str, str] | None = None, defaults: dict[str, Any] | None = None):
        svc = need_service()
        if admitted[0] >= svc.slots_total + detect_queue:  # before the body is read: memory stays bounded
            raise api_error(503, f"the server is busy ({admitted[0]} images in progress or waiting)",
                            f"retry in {BUSY_RETRY_S} s", {"Retry-After": str(BUSY_RETRY_S)})
        admitted[0] += 1
        try:
            data, raw = await _image_and_options(request, option_names, max_image_bytes)
            options = dict(defaults or {})
            for name, value in raw.items():
                if value is None or value == "":  # a form field left empty: the default
                    continue
                target = (renames or {}).get(name, name)
                options[target] = _coerce(target, value)

            def work() -> tuple[Any, Any, float]:
                with svc.slots:  # a few pictures decoded and detected at once, whatever the clients
                    image = decode_image(data)
                    detections, ms = svc.detect(image, **options)
                return image, detections, ms

            image, detections, ms = await run_in_threadpool(work)
            return image, detections, ms
        finally:
            admitted[0] -= 1

    @app.get("/healthz", summary="Liveness: 200 while the server and its job runners run; 503 if a runner died")
    async def healthz() -> JSONResponse:
        out: dict[str, Any] = {"status": "ok", "model": service.model_name if service else None}
        status = 200
        if jobs is not None:
            out["jobs"] = jobs.counts()
            dead = jobs.dead_workers()
            if dead:
                status = 503
                out.update(status="unhealthy", error=f"{dead} of {jobs.max_jobs} job runners stopped",
                           fix="restart the server; see its log for the cause")
        return JSONResponse(out, status, headers=NO_STORE)

    @app.get("/v1/models", summary="The model: name, classes, input size, backend")
    async def models() -> dict[str, Any]:
        return need_service().describe()

    @app.post("/v1/detect", summary="Objects in an image: boxes, classes, confidences and tags",
              openapi_extra=_image_body_doc(DETECT_OPTIONS))
    async def detect_route(request: Request) -> JSONResponse:
        image, detections, ms = await detect(request)
        height, width = image.shape[:2]
        return JSONResponse(detect_payload(detections, width, height, need_service().model_name, ms), headers=NO_STORE)

    @app.post("/v1/vision/detection", summary="DeepStack-compatible detection (Frigate, Home Assistant)",
              openapi_extra=_image_body_doc({"min_confidence": float}))
    async def deepstack(request: Request) -> JSONResponse:
        _, detections, _ = await detect(request, ("min_confidence",), {"min_confidence": "conf"},
                                        {"conf": DEEPSTACK_MIN_CONFIDENCE})
        return JSONResponse(deepstack_payload(detections), headers=NO_STORE)

    @app.post("/v1/tags", summary="Image tags: best confidence per class, 0-100",
              openapi_extra=_image_body_doc(DETECT_OPTIONS))
    async def tags(request: Request) -> JSONResponse:
        _, detections, _ = await detect(request)
        return JSONResponse(tags_payload(detections), headers=NO_STORE)

    def need_jobs() -> "JobManager":
        if jobs is None:
            raise api_error(404, "this server runs no video jobs", "use 'vidtrack serve' for video jobs")
        return jobs

    def find(job_id: str):
        job = need_jobs().get(job_id)
        if job is None:
            raise api_error(404, f"no job {job_id}", "see GET /v1/jobs for the jobs")
        return job

    @app.post("/v1/jobs", status_code=202, summary="Upload a video to track; options named as in 'vidtrack run'",
              openapi_extra=_job_body_doc())
    async def submit(request: Request) -> JSONResponse:
        manager = need_jobs()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "multipart/form-data":
            raise api_error(415, f"content type {kind or 'none'} is not accepted",
                            "send multipart/form-data with the file as the field 'video'")
        declared = request.headers.get("content-length", "")
        await run_in_threadpool(manager.check_room, int(declared) if declared.isdigit() else None)
        try:
            form = await request.form(max_files=1, max_fields=64)
        except OSError as exc:  # the spool folder of uploads (the system's temporary folder) is full
            import tempfile

            from vidtrack.web.jobs import disk_full_error, is_disk_full

            if is_disk_full(exc):
                raise disk_full_error(Path(tempfile.gettempdir()), "the upload does not fit") from None
            raise
        upload = form.get("video")
        if not isinstance(upload, UploadFile):
            raise api_error(422, "no 'video' file in the form", "send the file as the multipart field 'video'")
        options: dict[str, Any] = {}
        if isinstance(form.get("options"), str):
            try:
                options = json.loads(str(form["options"]))
            except RecursionError:
                raise api_error(400, "the 'options' field is nested too deeply", 'send a flat object, e.g. {"conf": 0.4}') from None
            except ValueError:
                raise api_error(422, "the 'options' field is not JSON", 'send e.g. options={"conf": 0.4}') from None
            if not isinstance(options, dict):
                raise api_error(422, "the 'options' field is not a JSON object", 'send e.g. options={"conf": 0.4}')
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():  # a repeated field (line=..., line=...) is a list
            if key not in ("video", "options") and isinstance(value, str):
                fields.setdefault(key, []).append(value)
        options.update({k: v[0] if len(v) == 1 else v for k, v in fields.items()})
        job = await run_in_threadpool(manager.submit, upload.file, upload.filename or "", options, upload.size)
        return JSONResponse({"id": job.id, "state": job.state, "status_url": f"/v1/jobs/{job.id}"}, 202,
                            headers={**NO_STORE, "Location": f"/v1/jobs/{job.id}"})

    @app.get("/v1/jobs", summary="Every job, newest first")
    async def list_jobs() -> JSONResponse:
        return JSONResponse({"jobs": [j.public() for j in need_jobs().list()]}, headers=NO_STORE)

    @app.get("/v1/jobs/{job_id}", summary="A job's state, progress (frames done / total), errors and outputs")
    async def job_status(job_id: str) -> JSONResponse:
        return JSONResponse(find(job_id).public(), headers=NO_STORE)

    @app.get("/v1/jobs/{job_id}/{name}", summary="A finished job's output: video.mp4 (HTTP Range), "
             "tracks.jsonl, events.jsonl, summary.json, heatmap.png")
    async def job_file(job_id: str, name: str) -> FileResponse:
        job = find(job_id)
        path = need_jobs().output(job, name)
        if path is None:
            state = job.state
            fix = "wait until the job's state is finished" if state in ("queued", "running") else \
                f"fetch one of the job's outputs: {', '.join(job.public()['outputs']) or 'none'}"
            raise api_error(404, f"job {job_id} has no {name} ({state})", fix)
        return FileResponse(path, media_type=need_jobs().media_type(name), headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/v1/jobs/{job_id}/{kind}/{name}", summary="A file of a finished job's snapshots/ or clips/ folder "
             "(asked with snapshots=true, clips=true; the URLs are in the job's outputs)")
    async def job_folder_file(job_id: str, kind: str, name: str) -> FileResponse:
        job = find(job_id)
        manager = need_jobs()
        path = manager.output(job, f"{kind}/{name}")
        if path is None:
            raise api_error(404, f"job {job_id} has no {kind}/{name} ({job.state})", "use the URLs in the job's outputs")
        return FileResponse(path, media_type=manager.media_type(f"{kind}/{name}"), headers={"X-Content-Type-Options": "nosniff"})

    @app.delete("/v1/jobs/{job_id}", summary="Stop a job if it runs and delete it with its files")
    async def delete_job(job_id: str) -> JSONResponse:
        job = find(job_id)
        await run_in_threadpool(need_jobs().delete, job)
        return JSONResponse({"id": job_id, "deleted": True}, headers=NO_STORE)


def _review_routes(app: FastAPI, review: "ReviewIndex", token: str | None) -> None:
    """The review page, its data and the pictures and clips it shows (files under the review folder only)."""

    @app.get("/review", include_in_schema=False)
    async def review_page() -> Response:
        return _page_response("review.html", {"query": f"?token={quote(token)}" if token else "", "token": token or ""})

    @app.get("/v1/review", summary="Events of the runs under --review DIR: time, file, type, class, line or zone, "
             "snapshot, clip; runs with their heatmaps")
    async def review_data() -> JSONResponse:
        return JSONResponse(await run_in_threadpool(review.data), headers=NO_STORE)

    @app.get("/review/files/{rel:path}", summary="A snapshot, heatmap or clip under --review DIR (HTTP Range)")
    async def review_file(rel: str) -> FileResponse:
        found = review.file(rel)
        if found is None:
            raise api_error(404, f"no picture or video {rel!r} under the review folder", "use the URLs /v1/review lists")
        return FileResponse(found[0], media_type=found[1], headers={"X-Content-Type-Options": "nosniff"})


def _image_body_doc(options: dict[str, type]) -> dict[str, Any]:
    """OpenAPI for a body that is multipart (``image`` + options) or JSON base64; each option's
    type, range, default and description from the option table."""
    types = {float: "number", int: "integer", str: "string", bool: "boolean"}  # DeepStack's own fields
    props = {name: json_schema(name) if name in OPTIONS else {"type": types[kind]} for name, kind in options.items()}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
            "image": {"type": "string", "format": "binary"}, **props}}},
        "application/json": {"schema": {"type": "object", "required": ["image"], "properties": {
            "image": {"type": "object", "properties": {"base64": {"type": "string"}}}, **props}}},
    }}}


def _job_body_doc() -> dict[str, Any]:
    """OpenAPI for a video job: the upload and every run option a client may set (the option
    table's, less those the server decides and the paths), as form fields."""
    from vidtrack.web.jobs import SERVER_OPTIONS

    fields = {name: json_schema(name) for name, option in OPTIONS.items()
              if name not in SERVER_OPTIONS and not issubclass(option.kind, Path)}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["video"], "properties": {
            "video": {"type": "string", "format": "binary"},
            "options": {"type": "string", "description": "JSON object of 'vidtrack run' options, e.g. {\"conf\": 0.4}"},
            **fields,
        }, "additionalProperties": {"type": "string"}}}}}}

