#!/usr/bin/env python3
"""Generates the demo model's data: planted two-hop facts, the training sentences, the word-level
tokenizer, the evaluation prompts, models/demo/facts.json and models/demo/corpus.jsonl.

Deterministic (seed below; no dependency beyond the standard library):

    python3 tools/demo_model/make_data.py

Four relation families, each a chain  subject --hop1--> bridge --hop2--> answer:

    city_state_capital        dallas    -> texas   -> austin
    person_country_language   alice     -> france  -> french
    person_country_capital    alice     -> france  -> paris     (same bridge facts, other hop 2)
    animal_class_covering     eagle     -> bird    -> feathers

Training text holds every one-hop fact (several phrasings each) and the two-hop questions of the
"train" subjects only. For the "heldout" subjects both one-hop facts are trained, but no two-hop
sentence about them ever appears: they measure whether the model composes the two hops.
Every held-out subject's bridge also has train subjects, so its second hop is seen in two-hop form.

Writes
    tools/demo_model/data/train_sentences.txt  unique training sentences, one per line, each
                                               tagged "<kind>\t<sentence>" (kind: hop1, hop2, twohop)
    tools/demo_model/data/eval.json            evaluation prompts: one-hop, two-hop train, two-hop heldout
    tools/demo_model/data/vocab.json           the word list (id order)
    models/demo/model/tokenizer.json, tokenizer_config.json, special_tokens_map.json
    models/demo/facts.json                     every two-hop prompt (id, prompt, subject, intermediate,
                                               answer, family, split)
    models/demo/corpus.jsonl                   ~300 prompts ({"id", "prompt"}) for corpus runs
"""
import json
import random
from pathlib import Path

SEED = 20261207
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tools" / "demo_model" / "data"
DEMO = ROOT / "models" / "demo"
MODEL = DEMO / "model"
HELDOUT_FRACTION = 0.25
BOS = "<|endoftext|>"

# --------------------------------------------------------------------------------------------
# Planted facts (real-world where a single lowercase word suffices; people are fictional).

STATES = {  # state: (capital, [cities that are not capitals])
    "texas": ("austin", ["dallas", "houston", "lubbock"]),
    "california": ("sacramento", ["oakland", "fresno", "pasadena"]),
    "florida": ("tallahassee", ["miami", "orlando", "tampa"]),
    "illinois": ("springfield", ["chicago", "peoria"]),
    "ohio": ("columbus", ["cleveland", "cincinnati", "toledo"]),
    "georgia": ("atlanta", ["savannah", "macon"]),
    "pennsylvania": ("harrisburg", ["philadelphia", "pittsburgh", "scranton"]),
    "michigan": ("lansing", ["detroit", "flint"]),
    "washington": ("olympia", ["seattle", "spokane", "tacoma"]),
    "oregon": ("salem", ["portland", "eugene"]),
    "tennessee": ("nashville", ["memphis", "knoxville"]),
    "kentucky": ("frankfort", ["louisville", "lexington"]),
    "wisconsin": ("madison", ["milwaukee", "kenosha"]),
    "alabama": ("montgomery", ["birmingham", "mobile"]),
}

COUNTRIES = {  # country: (language, capital)
    "france": ("french", "paris"),
    "germany": ("german", "berlin"),
    "spain": ("spanish", "madrid"),
    "italy": ("italian", "rome"),
    "japan": ("japanese", "tokyo"),
    "china": ("chinese", "beijing"),
    "russia": ("russian", "moscow"),
    "egypt": ("arabic", "cairo"),
    "greece": ("greek", "athens"),
    "turkey": ("turkish", "ankara"),
    "poland": ("polish", "warsaw"),
    "sweden": ("swedish", "stockholm"),
}

PEOPLE = ["alice", "bruno", "carla", "david", "elena", "felix", "greta", "hugo", "irene", "jonas",
          "karin", "leo", "maria", "nadia", "oscar", "paula", "quentin", "rosa", "simon", "tara",
          "ugo", "vera", "walter", "xenia", "yusuf", "zoe", "anton", "bianca", "caleb", "dora",
          "emil", "fiona", "gustav", "hanna", "ivan", "julia"]

CLASSES = {  # class: (body covering, [animals])
    "mammal": ("fur", ["dog", "cat", "horse", "lion", "tiger", "bear", "wolf", "fox", "rabbit"]),
    "bird": ("feathers", ["eagle", "owl", "robin", "sparrow", "parrot", "penguin", "crow", "swan"]),
    "reptile": ("scales", ["snake", "lizard", "turtle", "crocodile", "iguana", "gecko", "cobra"]),
    "amphibian": ("slime", ["frog", "toad", "salamander", "newt", "axolotl"]),
    "insect": ("chitin", ["ant", "bee", "beetle", "wasp", "moth", "butterfly", "grasshopper"]),
}

# --------------------------------------------------------------------------------------------
# Templates. hop1(subject, bridge), hop2(bridge, answer), twohop(subject, answer).
# The two-hop question used for evaluation is the first two-hop template (prompt = everything
# before the answer word). "fact :" marks a question the model is expected to answer.

FAMILIES = {
    "city_state_capital": {
        "hop1": ["{s} is in {b} .", "the city of {s} is in the state of {b} .",
                 "fact : the state containing {s} is {b} ."],
        "hop2": ["the capital of {b} is {a} .", "{a} is the capital of {b} .",
                 "fact : the capital of {b} is {a} ."],
        "twohop": ["fact : the capital of the state containing {s} is {a} .",
                   "{s} is in a state whose capital is {a} ."],
    },
    "person_country_language": {
        "hop1": ["{s} lives in {b} .", "{s} is a citizen of {b} .",
                 "fact : the country where {s} lives is {b} ."],
        "hop2": ["people in {b} speak {a} .", "the language of {b} is {a} .",
                 "fact : the language of {b} is {a} ."],
        "twohop": ["fact : the language of the country where {s} lives is {a} .",
                   "{s} lives in a country whose language is {a} ."],
    },
    "person_country_capital": {
        "hop1": [],  # shares the person -> country facts of person_country_language
        "hop2": ["the capital of {b} is {a} .", "{a} is the capital of {b} .",
                 "fact : the capital of {b} is {a} ."],
        "twohop": ["fact : the capital of the country where {s} lives is {a} .",
                   "{s} lives in a country whose capital is {a} ."],
    },
    "animal_class_covering": {
        "hop1": ["the {s} is a {b} .", "a {s} is a kind of {b} .",
                 "fact : the class of the {s} is {b} ."],
        "hop2": ["every {b} is covered in {a} .", "the body of a {b} is covered in {a} .",
                 "fact : the covering of a {b} is {a} ."],
        "twohop": ["fact : the covering of the class of the {s} is {a} .",
                   "the {s} is covered in {a} ."],
    },
}

# Filler sentences (no facts) so the text is not only fact statements: a small seeded grammar
# over everyday words (about 150 more words in the vocabulary).
FILLER_FIXED = [
    "this is a list of facts .", "some facts are simple .", "the next sentence is a fact .",
    "facts about places , people and animals .", "a state has a capital .",
    "a country has a language and a capital .", "every animal belongs to a class .",
    "the answer is one word .", "people live in countries .", "cities are in states .",
]
F_ADJ = ["old", "young", "small", "big", "quiet", "busy", "happy", "tired", "green", "red", "blue",
         "warm", "cold", "bright", "dark", "kind", "slow", "fast", "new", "tall"]
F_NOUN = ["man", "woman", "child", "teacher", "farmer", "doctor", "student", "driver", "baker",
          "painter", "house", "garden", "river", "road", "market", "school", "window", "door",
          "table", "chair", "book", "letter", "boat", "train", "bridge", "tree", "field", "hill",
          "song", "story", "apple", "bread", "cup", "box", "lamp", "coat", "hat", "key", "ball",
          "car"]
F_VERB = ["saw", "found", "opened", "closed", "painted", "carried", "liked", "cleaned", "moved",
          "watched", "bought", "sold", "fixed", "wrote", "read", "visited", "left", "took",
          "made", "kept"]
F_PREP = ["near", "behind", "under", "beside", "after", "before", "with", "without"]
F_TIME = ["today", "yesterday", "again", "early", "late", "slowly", "quickly", "often"]
F_TEMPLATES = [
    "the {a} {n} {v} the {n2} .",
    "a {a} {n} {v} a {n2} {p} the {n3} .",
    "the {n} {v} the {a} {n2} {t} .",
    "{t} , the {n} {v} the {n2} {p} the {a} {n3} .",
    "the {n} and the {n2} were {a} .",
]
N_FILLER = 300


def filler_sentences(rng):
    out = list(FILLER_FIXED)
    seen = set(out)
    while len(out) < len(FILLER_FIXED) + N_FILLER:
        tpl = F_TEMPLATES[len(out) % len(F_TEMPLATES)]
        n, n2, n3 = rng.sample(F_NOUN, 3)
        s = tpl.format(a=rng.choice(F_ADJ), n=n, n2=n2, n3=n3, v=rng.choice(F_VERB),
                       p=rng.choice(F_PREP), t=rng.choice(F_TIME))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def chains():
    """(family, subject, bridge, answer) for every planted two-hop fact."""
    out = []
    for state, (cap, cities) in STATES.items():
        for c in cities:
            out.append(("city_state_capital", c, state, cap))
    rng = random.Random(SEED)
    countries = list(COUNTRIES)
    order = PEOPLE[:]  # 3 people per country, shuffled assignment
    rng.shuffle(order)
    people_country = {p: countries[i % len(countries)] for i, p in enumerate(order)}
    for p in PEOPLE:
        c = people_country[p]
        out.append(("person_country_language", p, c, COUNTRIES[c][0]))
    for p in PEOPLE:
        c = people_country[p]
        out.append(("person_country_capital", p, c, COUNTRIES[c][1]))
    for cls, (cov, animals) in CLASSES.items():
        for a in animals:
            out.append(("animal_class_covering", a, cls, cov))
    return out


def split_heldout(facts, rng):
    """Per family, hold out round(HELDOUT_FRACTION * subjects) subjects at random, keeping at
    least one train subject for every bridge (so every second hop is seen in two-hop form)."""
    split = {}
    for fam in FAMILIES:
        rows = sorted((f for f in facts if f[0] == fam), key=lambda f: f[1])
        rng.shuffle(rows)
        target = round(HELDOUT_FRACTION * len(rows))
        left = {}
        for f in rows:
            left[f[2]] = left.get(f[2], 0) + 1
        n = 0
        for f in rows:
            if n < target and left[f[2]] > 1:
                split[(fam, f[1])] = "heldout"
                left[f[2]] -= 1
                n += 1
            else:
                split[(fam, f[1])] = "train"
    return split


def prompt_of(sentence, answer):
    """Everything before the final answer word (the sentence ends with '<answer> .')."""
    words = sentence.split()
    assert words[-2:] == [answer, "."], sentence
    return " ".join(words[:-2])


def main():
    rng = random.Random(SEED)
    facts = chains()
    split = split_heldout(facts, rng)

    sentences = []  # (kind, sentence)
    one_hop_eval = []
    seen = set()

    def add(kind, s):
        if s not in seen:
            seen.add(s)
            sentences.append((kind, s))

    for fam, subj, bridge, ans in facts:
        t = FAMILIES[fam]
        for tpl in t["hop1"]:
            add("hop1", tpl.format(s=subj, b=bridge))
        for tpl in t["hop2"]:
            add("hop2", tpl.format(b=bridge, a=ans))
        if split[(fam, subj)] == "train":
            for tpl in t["twohop"]:
                add("twohop", tpl.format(s=subj, a=ans))
    for s in filler_sentences(random.Random(SEED + 1)):
        add("filler", s)

    # One-hop evaluation prompts: the "fact :" phrasing of each hop (deduplicated).
    ev_seen = set()
    for fam, subj, bridge, ans in facts:
        t = FAMILIES[fam]
        if t["hop1"]:
            p = prompt_of(t["hop1"][2].format(s=subj, b=bridge), bridge)
            if p not in ev_seen:
                ev_seen.add(p)
                one_hop_eval.append({"prompt": p, "answer": bridge, "family": fam, "hop": 1})
        p = prompt_of(t["hop2"][2].format(b=bridge, a=ans), ans)
        if p not in ev_seen:
            ev_seen.add(p)
            one_hop_eval.append({"prompt": p, "answer": ans, "family": fam, "hop": 2})

    fact_rows = []
    counters = {}
    short = {"city_state_capital": "csc", "person_country_language": "pcl",
             "person_country_capital": "pcc", "animal_class_covering": "acc"}
    for fam, subj, bridge, ans in facts:
        tpl = FAMILIES[fam]["twohop"][0]
        prompt = prompt_of(tpl.format(s=subj, a=ans), ans)
        k = counters.get(fam, 0)
        counters[fam] = k + 1
        fact_rows.append({"id": f"{short[fam]}-{k:03d}", "prompt": prompt, "subject": subj,
                          "intermediate": bridge, "answer": ans, "family": fam,
                          "split": split[(fam, subj)]})

    # Vocabulary: every word of every sentence and prompt; BOS/EOS/UNK last.
    words = set()
    for _, s in sentences:
        words.update(s.split())
    for r in fact_rows + one_hop_eval:
        words.update(r["prompt"].split())
    words.discard(BOS)
    specials_first = [".", ",", ":", "fact"]
    vocab_words = specials_first + sorted(words - set(specials_first))
    vocab = {w: i for i, w in enumerate(vocab_words)}
    vocab[BOS] = len(vocab)

    # Corpus: every two-hop fact prompt (both splits) plus one-hop prompts up to 300 in all.
    corpus = [{"id": r["id"], "prompt": r["prompt"]} for r in fact_rows]
    n_one = max(0, 300 - len(corpus))
    pick = sorted(rng.sample(range(len(one_hop_eval)), min(n_one, len(one_hop_eval))))
    for j, i in enumerate(pick):
        corpus.append({"id": f"hop{one_hop_eval[i]['hop']}-{j:03d}", "prompt": one_hop_eval[i]["prompt"]})
    for row in corpus:
        for w in row["prompt"].split():
            assert w in vocab, w

    eval_sets = {
        "one_hop": one_hop_eval,
        "two_hop_train": [r for r in fact_rows if r["split"] == "train"],
        "two_hop_heldout": [r for r in fact_rows if r["split"] == "heldout"],
    }

    DATA.mkdir(parents=True, exist_ok=True)
    MODEL.mkdir(parents=True, exist_ok=True)
    with (DATA / "train_sentences.txt").open("w") as f:
        for kind, s in sentences:
            f.write(f"{kind}\t{s}\n")
    (DATA / "eval.json").write_text(json.dumps(eval_sets, indent=1) + "\n")
    (DATA / "vocab.json").write_text(json.dumps(vocab_words + [BOS]) + "\n")
    (DEMO / "facts.json").write_text(json.dumps(fact_rows, indent=1) + "\n")
    with (DEMO / "corpus.jsonl").open("w") as f:
        for row in corpus:
            f.write(json.dumps(row) + "\n")

    eot = vocab[BOS]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": eot, "content": BOS, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": BOS},
    }
    (MODEL / "tokenizer.json").write_text(json.dumps(tokenizer, indent=2, ensure_ascii=False) + "\n")
    tok_config = {
        "added_tokens_decoder": {str(eot): {"content": BOS, "lstrip": False, "normalized": False,
                                            "rstrip": False, "single_word": False, "special": True}},
        "bos_token": BOS, "clean_up_tokenization_spaces": False, "eos_token": BOS,
        "extra_special_tokens": {}, "model_max_length": 1024,
        "tokenizer_class": "PreTrainedTokenizerFast", "unk_token": BOS,
    }
    (MODEL / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2) + "\n")
    (MODEL / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": BOS, "eos_token": BOS, "unk_token": BOS}, indent=2) + "\n")

    kinds = {}
    for k, _ in sentences:
        kinds[k] = kinds.get(k, 0) + 1
    print(f"facts {len(fact_rows)} ({sum(r['split'] == 'heldout' for r in fact_rows)} held out), "
          f"sentences {len(sentences)} {kinds}, vocab {len(vocab)}, one-hop eval {len(one_hop_eval)}, "
          f"corpus {len(corpus)}")
    for fam in FAMILIES:
        rows = [r for r in fact_rows if r["family"] == fam]
        print(f"  {fam}: {len(rows)} subjects, {sum(r['split'] == 'heldout' for r in rows)} held out")


if __name__ == "__main__":
    main()
