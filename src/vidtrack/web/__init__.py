"""The web layer: one ASGI application (FastAPI, served by uvicorn).

- :mod:`vidtrack.web.app`: ``create_app`` builds the application: the HTTP API
  (``/v1/detect``, DeepStack's ``/v1/vision/detection``, ``/v1/tags``, video jobs,
  ``/healthz``, ``/v1/models``, ``/docs``), the page at ``/`` and, for
  ``vidtrack run --serve``, the live view (``/live``, ``/stats``, ``/stream/N.mjpg``).
- :mod:`vidtrack.web.security`: addresses, the token rule and upload limits.
- :mod:`vidtrack.web.live`: the live view's frames, JPEG encoding and stats.
- :mod:`vidtrack.web.service`: the shared model and the image routes' results.
- :mod:`vidtrack.web.jobs`: video jobs run through :func:`vidtrack.runner.execute`.
- :mod:`vidtrack.web.server`: uvicorn on a socket bound up front, in the foreground
  (``vidtrack serve``) or on a background thread (``--serve``, tests).

Nothing here is imported by ``import vidtrack`` or ``vidtrack --help``: FastAPI loads only
when a server starts.
"""
