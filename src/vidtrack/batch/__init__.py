"""Whole archives: many video files through the ``run`` pipeline, resumable, in parallel.

``run_batch(inputs, out_dir, options, engine="local")`` processes every video of INPUTS
(files, folders searched recursively, glob patterns) into OUT_DIR, mirroring each input's
relative path: annotated MP4 (unless ``video=False``), per-frame JSONL, events and the
summary JSON, plus ``report.csv``/``report.jsonl`` with one row per input. A per-file
manifest with a settings fingerprint makes a second run skip what is done, redo what
changed and retry what failed; outputs are renamed into place only after their record is
on disk, so a killed batch never leaves a half-written file looking finished.

Engines: ``local`` (this process, or N worker processes each pinned to its share of the
cores) and ``ray`` (actors on a Ray cluster, ``pip install 'vidtrack[ray]'``). Both run
each file with :func:`vidtrack.options.request_from_options` and
:func:`vidtrack.runner.execute`, the same path as ``vidtrack run``.

Importing this package is light; engines import what they need when they run.
"""

from vidtrack.batch.driver import BatchProgress, run_batch
from vidtrack.batch.inputs import VIDEO_SUFFIXES, BatchInputError

__all__ = ["BatchInputError", "BatchProgress", "VIDEO_SUFFIXES", "run_batch"]
