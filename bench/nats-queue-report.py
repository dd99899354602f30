"""Reads `rtmtl jobs --json` on stdin; prints a table row (mode 'row WORKERS'), per-job overheads ('idle'),
or exits 0 when every job is final ('final')."""
import datetime
import json
import sys


def t(s):
    return datetime.datetime.fromisoformat(s)


def ms(x, a, b):
    return (t(x[b]) - t(x[a])).total_seconds() * 1000


jobs = json.load(sys.stdin)["jobs"]
mode = sys.argv[1]
if mode == "final":
    sys.exit(0 if jobs and all(x["state"] in ("done", "failed") for x in jobs) else 1)
if mode == "holder":
    print(jobs[0].get("worker", ""))
    sys.exit(0)
assert all(x["state"] == "done" for x in jobs), [x["state"] for x in jobs]
if mode == "row":
    workers = int(sys.argv[2])
    start = min(t(x["submitted_at"]) for x in jobs)
    end = max(t(x["finished_at"]) for x in jobs)
    span = (end - start).total_seconds()
    frames = sum(x["frames_done"] for x in jobs)
    commit = sorted(ms(x, "ended_at", "finished_at") for x in jobs)[len(jobs) // 2]
    used = len(set(x["worker"] for x in jobs))
    print(f"| {workers} | {len(jobs)} x {frames // len(jobs)} frames | {span:.1f} s | {60 * len(jobs) / span:.1f} | "
          f"{frames / span:.1f} | {used} | {commit:.0f} ms |")
elif mode == "idle":
    for x in jobs:
        print(f"idle worker, {x['output']}: submit -> started {ms(x, 'submitted_at', 'started_at'):.0f} ms, "
              f"submit -> first frame {ms(x, 'submitted_at', 'first_frame_at'):.0f} ms, "
              f"engine end -> committed {ms(x, 'ended_at', 'finished_at'):.0f} ms")
