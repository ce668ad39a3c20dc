#!/usr/bin/env python3
"""Checks a finished corpus run's output folder, for the Slurm and network-namespace tests.

Every prompt of the corpus is reported exactly once; every task (bridge-swap tasks included)
completed exactly once in the journal; one shard per task. With --log, the coordinator's
summary line is in that log (the job's output).

usage: check_run_output.py NAME CORPUS.jsonl OUT [--log LOG] [--shards-note TEXT]
"""
import argparse, json, pathlib

ap = argparse.ArgumentParser()
ap.add_argument("name")
ap.add_argument("corpus", type=pathlib.Path)
ap.add_argument("out", type=pathlib.Path)
ap.add_argument("--log", type=pathlib.Path)
ap.add_argument("--shards-note", default="")
a = ap.parse_args()

ids = [json.loads(l)["id"] for l in a.corpus.read_text().splitlines() if l.strip()]
report = json.loads((a.out / "report.json").read_text())
seen = [p["id"] for p in report["prompts"]]
assert len(seen) == len(set(seen)), f"prompts reported twice: {sorted(i for i in set(seen) if seen.count(i) > 1)[:5]}"
assert set(seen) == set(ids), f"missing {sorted(set(ids) - set(seen))[:5]}, unexpected {sorted(set(seen) - set(ids))[:5]}"
assert report["prompts_total"] == len(ids) == report["prompts_done"] + report["prompts_failed"], report
if a.log:
    log = a.log.read_text()
    said = f"traced {report['prompts_done']} of {len(ids)} prompts ({report['prompts_failed']} failed)"
    assert said in log, f"the coordinator's summary '{said}' is not in {a.log}:\n{log[-2000:]}"
events = [json.loads(l)["event"] for l in (a.out / "journal.jsonl").read_text().splitlines() if l.strip()]
tasks = next(e["started"]["tasks"] for e in events if "started" in e)
# A job with evaluation.facts adds its bridge-swap tasks after the attribution tasks (second phase).
plan = a.out / "bridge_swap_plan.json"
tasks += len(json.loads(plan.read_text())["tasks"]) if plan.exists() else 0
done = [e["taskCompleted"]["taskID"] for e in events if "taskCompleted" in e]
assert sorted(set(done)) == list(range(tasks)) and len(done) == tasks, f"{tasks} tasks, completions {sorted(done)}"
shards = sorted(p.name for p in (a.out / "shards").glob("task-*.h5"))
assert len(shards) == tasks, f"{len(shards)} shards for {tasks} tasks"
print(f"{a.name}: ok: {len(ids)} prompts reported once each ({report['prompts_done']} traced, "
      f"{report['prompts_failed']} failed), {tasks} tasks completed once each, {len(shards)} shards{a.shards_note}")
