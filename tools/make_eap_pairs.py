#!/usr/bin/env python3
"""Writes the demo model's EAP tasks: jobs/eap-two-hop.jsonl and jobs/eap-one-hop.jsonl.

Both come from the planted city -> state -> capital facts of models/demo/facts.json (family
city_state_capital: 34 cities in 14 states); every word is one token of the demo model's
word-level tokenizer, so clean and corrupt prompts have the same length.

- two-hop: for every city, clean "fact : the capital of the state containing dallas is" and
  corrupt the same prompt with a city of another state, drawn at random; answer = the clean
  city's capital (austin), wrong = the corrupt city's (e.g. sacramento). 34 pairs.
- one-hop: for every state, clean "fact : the capital of texas is" and corrupt with another
  state, two different corrupt states each, drawn at random; answer/wrong = the two capitals.
  28 pairs.

Seeded (random.Random(20261130)); re-running gives the same files.

    python3 tools/make_eap_pairs.py
"""
import json
import random
from pathlib import Path

root = Path(__file__).resolve().parent.parent
facts = [f for f in json.loads((root / "models/demo/facts.json").read_text()) if f["family"] == "city_state_capital"]
capital = {f["intermediate"]: f["answer"] for f in facts}
states = sorted(capital)
rng = random.Random(20261130)


def write(name, pairs):
    out = root / "jobs" / name
    with out.open("w") as w:
        for p in pairs:
            w.write(json.dumps(p) + "\n")
    print(f"wrote {out}: {len(pairs)} pairs")


two_hop = []
for f in facts:
    other = rng.choice([g for g in facts if g["intermediate"] != f["intermediate"]])
    template = "fact : the capital of the state containing {} is"
    two_hop.append({"id": f"two-hop-{f['subject']}-vs-{other['subject']}", "clean": template.format(f["subject"]),
                    "corrupt": template.format(other["subject"]), "answer": f["answer"], "wrong": other["answer"]})
write("eap-two-hop.jsonl", two_hop)

one_hop = []
for s in states:
    for other in rng.sample([t for t in states if t != s], 2):
        template = "fact : the capital of {} is"
        one_hop.append({"id": f"one-hop-{s}-vs-{other}", "clean": template.format(s), "corrupt": template.format(other),
                        "answer": capital[s], "wrong": capital[other]})
write("eap-one-hop.jsonl", one_hop)
