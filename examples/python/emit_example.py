#!/usr/bin/env python3
"""Log a media service's work the way vigil reads it, with nothing but the standard library.

The four files processing services keep, each rotated by size (RotatingFileHandler):

    application.log       general messages              logger "app"
    media_processing.log  stage and session events      logger "media_processing"
    errors.log            a copy of every ERROR/CRITICAL line
    performance.log       a copy of every operation slower than SLOW_SECONDS

A copy carries "copy_of": "<file holding the original>", so vigil counts it as a line of
errors.log but never as a second operation. Python 3.8+.

    python3 emit_example.py LOG_DIR [--max-bytes N] [--backups N] [--sessions N]
"""
import argparse
import json
import logging
import logging.handlers
import os
import sys
import time
from datetime import datetime, timezone

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line in vigil's shape: timestamp, level, logger, message, then the extra fields."""

    def format(self, record):
        line = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["stack"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class CopyOf(logging.Filter):
    """Lets through the records `wanted` picks, marked as copies of the file holding the original."""

    def __init__(self, original, wanted):
        super().__init__()
        self.original = original
        self.wanted = wanted

    def filter(self, record):
        if not self.wanted(record):
            return False
        if sys.version_info >= (3, 12):
            # 3.12+: a filter may hand this handler its own record; the original stays untouched.
            copy = logging.makeLogRecord(vars(record))
            copy.copy_of = self.original
            return copy
        # Before 3.12 a filter can only mark the record itself: attach copy handlers after the
        # handler writing the original, on loggers that do not propagate.
        record.copy_of = self.original
        return True


def setup_logging(log_dir, max_bytes=10 * 1024 * 1024, backups=5, slow_seconds=300.0):
    """Returns (app, media): the general logger and the stage/session logger."""
    os.makedirs(log_dir, exist_ok=True)
    formatter = JsonFormatter()

    def rotating(name, *filters):
        handler = logging.handlers.RotatingFileHandler(os.path.join(log_dir, name), maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        handler.setFormatter(formatter)
        for f in filters:
            handler.addFilter(f)
        return handler

    def is_error(record):
        return record.levelno >= logging.ERROR

    def is_slow_operation(record):
        return getattr(record, "event", None) in ("stage_completed", "processing_error") and (getattr(record, "duration_seconds", None) or 0) >= slow_seconds

    app = logging.getLogger("app")
    media = logging.getLogger("media_processing")
    for logger, own_file in ((app, "application.log"), (media, "media_processing.log")):
        logger.setLevel(logging.INFO)
        logger.propagate = False  # the copies must be the last handlers a record meets
        logger.handlers.clear()
        logger.addHandler(rotating(own_file))  # the original first
        logger.addHandler(rotating("errors.log", CopyOf(own_file, is_error)))
    media.addHandler(rotating("performance.log", CopyOf("media_processing.log", is_slow_operation)))
    return app, media


# The same calls as vigil's emit library (src/emit), over the media logger.
def _context(session_id, user_id=None, **fields):
    extra = {"session_id": session_id, "user_id": user_id, **fields}
    return {k: v for k, v in extra.items() if v is not None}


def stage_started(media, session_id, stage, user_id=None, file_size_bytes=None):
    media.info("%s started", stage, extra=_context(session_id, user_id, event="stage_started", stage=stage, file_size_bytes=file_size_bytes))


def stage_completed(media, session_id, stage, duration_seconds, success=True, user_id=None, file_size_bytes=None, video_count=None):
    media.log(
        logging.INFO if success else logging.ERROR,
        "%s %s in %.2fs", stage, "completed" if success else "failed", duration_seconds,
        extra=_context(session_id, user_id, event="stage_completed", stage=stage, success=success, duration_seconds=duration_seconds,
                       file_size_bytes=file_size_bytes, video_count=video_count),
    )


def processing_error(media, session_id, stage, error_code, error, duration_seconds=None, user_id=None, exc_info=None):
    media.error(
        "%s failed: %s", stage, error_code, exc_info=exc_info,
        extra=_context(session_id, user_id, event="processing_error", stage=stage, success=False, error_code=error_code, error=error,
                       duration_seconds=duration_seconds),
    )


def session_completed(media, session_id, video_count=None, user_id=None):
    media.info("session completed", extra=_context(session_id, user_id, event="session_completed", video_count=video_count))


def session_failed(media, session_id, error=None, user_id=None):
    media.error("session failed", extra=_context(session_id, user_id, event="session_failed", error=error))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("log_dir")
    parser.add_argument("--max-bytes", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--backups", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=1)
    args = parser.parse_args()
    app, media = setup_logging(args.log_dir, args.max_bytes, args.backups, slow_seconds=300)

    app.info("worker started", extra={"version": "1.0.0", "pid_file": "/run/worker.pid"})
    for n in range(1, args.sessions + 1):
        sid, user = "py-%04d" % n, "user-%d" % (n % 3 + 1)
        stage_started(media, sid, "upload", user_id=user, file_size_bytes=1_048_576)
        stage_completed(media, sid, "upload", 2.5, user_id=user, file_size_bytes=1_048_576, video_count=2)
        stage_completed(media, sid, "merging", 412.0, user_id=user)  # slow: copied to performance.log
        t0 = time.monotonic()
        try:
            raise RuntimeError("ffmpeg exited with code 1: Invalid data found when processing input")
        except RuntimeError as exc:
            processing_error(media, sid, "compression", "FFMPEG_FAILED", str(exc), duration_seconds=round(time.monotonic() - t0, 3) + 1.5,
                             user_id=user, exc_info=True)
        session_failed(media, sid, error="compression failed", user_id=user)
    app.critical("storage backend unreachable", extra={"backend": "s3"})
    logging.shutdown()


if __name__ == "__main__":
    main()
