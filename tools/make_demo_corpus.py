#!/usr/bin/env python3
"""Writes jobs/demo_corpus.jsonl: the demo model's corpus (models/demo/corpus.jsonl) with labels.

Labels name the bridge concept of the planted two-hop facts (models/demo/facts.json): a two-hop
prompt ("fact : the capital of the state containing dallas is") gets its intermediate entity
("texas"), which it never names; a one-hop prompt that names a bridge entity ("fact : the
capital of texas is") gets that entity. One-hop prompts whose answer is the bridge ("fact : the
state containing dallas is") get no label. The report finds, from the corpus statistics, the
features that respond to each label, and measures in what share of the prompts that do not
name their label such a feature is in the pruned graph (planted_circuit_recovery).

    python3 tools/make_demo_corpus.py
"""
import json
from pathlib import Path

root = Path(__file__).resolve().parent.parent
facts = json.loads((root / "models/demo/facts.json").read_text())
bridges = sorted({f["intermediate"] for f in facts})
by_id = {f["id"]: f for f in facts}
out = root / "jobs/demo_corpus.jsonl"
n_labelled = 0
with out.open("w") as w, (root / "models/demo/corpus.jsonl").open() as r:
    for line in r:
        item = json.loads(line)
        words = item["prompt"].split()
        if item["id"] in by_id:
            item["label"] = by_id[item["id"]]["intermediate"]
        else:
            named = [b for b in bridges if b in words]
            if len(named) == 1:
                item["label"] = named[0]
        n_labelled += "label" in item
        w.write(json.dumps(item) + "\n")
print(f"wrote {out}: {n_labelled} labelled prompts")
