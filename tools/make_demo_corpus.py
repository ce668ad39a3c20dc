#!/usr/bin/env python3
"""Writes jobs/demo_corpus.jsonl: 64 short prompts over the interim demo model's vocabulary.

The interim model (models/interim, copied from the plt_relu reference case) has a 128-word
vocabulary; prompts are templated sentences from it, seeded, so the corpus is reproducible:
    python3 tools/make_demo_corpus.py
"""
import json
import random
from pathlib import Path

rng = random.Random(20261123)
animals = ["cat", "dog", "bird", "fish", "mouse", "horse", "cow", "sheep", "lion", "tiger"]
places = ["mat", "rug", "bed", "chair", "table", "house", "tree", "garden", "river", "hill", "road", "city"]
verbs = ["sat", "ran", "slept", "ate", "saw", "liked", "found", "took"]
states = ["tired", "happy", "hungry", "small", "big", "old", "new"]
preps = ["on", "in", "at", "by", "with", "from"]
pronouns = {"cat": "it", "dog": "it", "bird": "it", "fish": "it", "mouse": "it", "horse": "it", "cow": "it",
            "sheep": "it", "lion": "it", "tiger": "it"}
templates = [
    lambda a, p, v, s, q: f"the {a} {v} {q} the {p} because it was very {s}",
    lambda a, p, v, s, q: f"the {a} {v} {q} the {p} and then it {rng.choice(verbs)}",
    lambda a, p, v, s, q: f"a {s} {a} {v} {q} the {p}",
    lambda a, p, v, s, q: f"when the {a} was {s} it {v} {q} the {p}",
    lambda a, p, v, s, q: f"the {a} and the {rng.choice(animals)} {v} {q} the {p} so they were",
    lambda a, p, v, s, q: f"one {a} {v} {q} the {p} while two",
]
out = Path(__file__).resolve().parent.parent / "jobs" / "demo_corpus.jsonl"
with out.open("w") as f:
    for k in range(64):
        t = templates[k % len(templates)]
        prompt = t(rng.choice(animals), rng.choice(places), rng.choice(verbs), rng.choice(states), rng.choice(preps))
        f.write(json.dumps({"id": f"demo-{k:03d}", "prompt": prompt}) + "\n")
print(f"wrote {out}")
