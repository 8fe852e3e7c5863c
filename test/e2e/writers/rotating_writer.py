"""A real rotating writer: Python's logging.handlers.RotatingFileHandler writing
vigil-shaped JSON lines. Prints the truth (what it wrote) as one JSON line at the end.

usage: rotating_writer.py LOGFILE LINES MAX_BYTES BACKUPS SLEEP_EVERY SLEEP_SECONDS SEED
"""
import json
import logging
import logging.handlers
import random
import sys
import time
from datetime import datetime, timezone

path, lines, max_bytes, backups, sleep_every, sleep_s, seed = sys.argv[1:8]
lines, max_bytes, backups, sleep_every, sleep_s = int(lines), int(max_bytes), int(backups), int(sleep_every), float(sleep_s)
rnd = random.Random(int(seed))

handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("media_processing")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False

stages = ["upload", "analysis", "preparation", "merging", "compression", "storage_upload", "cleanup"]
truth = {"lines": 0, "operations": 0, "failed": 0, "by_stage": {}, "error_codes": {}}
for i in range(1, lines + 1):
    stage = stages[i % len(stages)]
    failed = rnd.random() < 0.05
    ts = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    rec = {
        "timestamp": ts, "level": "ERROR" if failed else "INFO", "logger": "media_processing",
        "message": f"line {i}", "n": i, "session_id": f"s{i // 14}", "stage": stage,
        "event": "processing_error" if failed else "stage_completed",
        "success": not failed, "duration_seconds": round(rnd.uniform(0.1, 30), 3),
    }
    if failed:
        code = rnd.choice(["FFMPEG_FAILED", "STORAGE_UPLOAD_FAILED"])
        rec["error_code"] = code
        truth["failed"] += 1
        truth["error_codes"][code] = truth["error_codes"].get(code, 0) + 1
    truth["operations"] += 1
    b = truth["by_stage"].setdefault(stage, {"count": 0, "failed": 0})
    b["count"] += 1
    b["failed"] += 1 if failed else 0
    log.info(json.dumps(rec))
    truth["lines"] += 1
    if sleep_every and i % sleep_every == 0:
        time.sleep(sleep_s)
handler.close()
print(json.dumps(truth), flush=True)
