"""report: a quick function that summarises a finished job.

Standard library only, Python 3.9 syntax: the emulator runs whatever python3
is installed, the cloud runs Python3.9.

Event: {"job": "trailer-4k", "frames": 20, "durationMs": 10000}
"""

import json
import time


def _request_id(context):
    # SCF passes a dict, Lambda an object; the emulator may pass either.
    if isinstance(context, dict):
        return context.get("request_id") or context.get("aws_request_id") or "-"
    return getattr(context, "aws_request_id", None) or getattr(context, "request_id", None) or "-"


def main_handler(event, context):
    event = event if isinstance(event, dict) else {}
    job = str(event.get("job", "unnamed"))
    frames = event.get("frames", 0)
    duration_ms = event.get("durationMs", 0)
    fps = 0.0
    if isinstance(frames, (int, float)) and isinstance(duration_ms, (int, float)) and duration_ms > 0:
        fps = round(frames * 1000.0 / duration_ms, 2)
    print("report: job %s, %s frames, %s fps (request %s)" % (job, frames, fps, _request_id(context)), flush=True)
    return {
        "job": job,
        "frames": frames,
        "fps": fps,
        "keys": sorted(event.keys()),
        "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    print(json.dumps(main_handler({"job": "demo", "frames": 20, "durationMs": 10000}, {})))
