#!/usr/bin/env python3
"""Trains the demo model: a 4-layer GPT-2 (GPT2LMHeadModel) on the sentences made by
make_data.py, on CPU, from a fixed seed, and saves it (float32 safetensors) with its tokenizer
into models/demo/model/. Then evaluates next-token accuracy of the answer word and writes
models/demo/eval.json.

    python3 tools/demo_model/make_data.py
    python tools/demo_model/train.py            # needs torch + transformers (offline tool only)

Training sequences: <|endoftext|> followed by independently sampled sentences, packed up to
n_positions tokens, the rest padded with <|endoftext|> and left out of the loss. Sentences are
drawn by kind with fixed weights (two-hop questions of train subjects, one-hop facts, filler).
"""
import argparse
import os
import json
import math
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # 2 busy cores: spinning OpenMP threads stall

import torch
from transformers import GPT2Config, GPT2LMHeadModel

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tools" / "demo_model" / "data"
DEMO = ROOT / "models" / "demo"
MODEL = DEMO / "model"
BOS = "<|endoftext|>"
KIND_WEIGHTS = {"hop1": 0.30, "hop2": 0.15, "twohop": 0.40, "filler": 0.15}


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--out", type=Path, default=MODEL)
    return ap.parse_args()


def load_vocab():
    words = json.loads((DATA / "vocab.json").read_text())
    return {w: i for i, w in enumerate(words)}


def encode(vocab, text):
    return [vocab[w] for w in text.split()]


def make_batch(rng, pools, vocab, batch, ctx):
    bos = vocab[BOS]
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    ids = torch.full((batch, ctx), bos, dtype=torch.long)
    labels = torch.full((batch, ctx), -100, dtype=torch.long)  # padding is left out of the loss
    for b in range(batch):
        seq = [bos]
        while True:
            kind = rng.choices(kinds, weights)[0]
            sent = rng.choice(pools[kind])
            if len(seq) + len(sent) > ctx:
                break
            seq.extend(sent)
        n = len(seq)
        ids[b, :n] = torch.tensor(seq)
        labels[b, 1:n] = ids[b, 1:n]  # GPT2LMHeadModel shifts labels by one itself
    return ids, labels


@torch.no_grad()
def accuracy(model, vocab, rows):
    """Next-token accuracy of the answer word after <|endoftext|> + prompt; also the mean
    probability of the answer."""
    model.eval()
    bos = vocab[BOS]
    correct, probs, preds = 0, [], []
    inv = {i: w for w, i in vocab.items()}
    for start in range(0, len(rows), 128):
        chunk = rows[start:start + 128]
        seqs = [[bos] + encode(vocab, r["prompt"]) for r in chunk]
        L = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), L), bos, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
        logits = model(input_ids=ids).logits
        for i, (s, r) in enumerate(zip(seqs, chunk)):
            last = logits[i, len(s) - 1]
            p = torch.softmax(last, -1)
            top = int(last.argmax())
            ans = vocab[r["answer"]]
            correct += int(top == ans)
            probs.append(float(p[ans]))
            preds.append(inv[top])
    model.train()
    return correct / max(1, len(rows)), sum(probs) / max(1, len(probs)), preds


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    vocab = load_vocab()
    pools = {k: [] for k in KIND_WEIGHTS}
    for line in (DATA / "train_sentences.txt").read_text().splitlines():
        kind, sent = line.split("\t")
        pools[kind].append(encode(vocab, sent))
    evals = json.loads((DATA / "eval.json").read_text())

    bos = vocab[BOS]
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=args.ctx, n_ctx=args.ctx, n_embd=args.d_model,
        n_layer=args.layers, n_head=args.heads, n_inner=None, activation_function="gelu_new",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5,
        initializer_range=0.02, bos_token_id=bos, eos_token_id=bos, tie_word_embeddings=True,
        scale_attn_by_inverse_layer_idx=False, reorder_and_upcast_attn=False,
    )
    config.architectures = ["GPT2LMHeadModel"]
    model = GPT2LMHeadModel(config).float()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params:,}  vocab {len(vocab)}  d_model {args.d_model}  layers {args.layers}")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-8)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))

    t0 = time.time()
    history = []
    model.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ids, labels = make_batch(rng, pools, vocab, args.batch, args.ctx)
        loss = model(input_ids=ids, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  lr {lr_at(step):.2e}  {time.time() - t0:6.1f}s",
                  flush=True)
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            row = {"step": step + 1, "loss": round(loss.item(), 4), "seconds": round(time.time() - t0, 1)}
            for name, rows in evals.items():
                row[name] = round(accuracy(model, vocab, rows)[0], 4)
            history.append(row)
            print("  eval", row, flush=True)
    train_seconds = time.time() - t0

    # Save: float32 safetensors + config + tokenizer files (the tokenizer files were written by
    # make_data.py into the same folder).
    args.out.mkdir(parents=True, exist_ok=True)
    model = model.float().eval()
    try:
        model.save_pretrained(args.out, safe_serialization=True)
    except TypeError:  # transformers >= 5 always writes safetensors
        model.save_pretrained(args.out)
    cfg_path = args.out / "config.json"
    cfg = json.loads(cfg_path.read_text())
    # Make sure the GPT-2 fields readers expect are present, in the reference case's style.
    cfg.update({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_ctx": args.ctx,
                "n_positions": args.ctx, "n_embd": args.d_model, "n_head": args.heads,
                "n_layer": args.layers, "n_inner": None, "layer_norm_epsilon": 1e-5,
                "activation_function": "gelu_new", "bos_token_id": bos, "eos_token_id": bos,
                "vocab_size": len(vocab), "dtype": "float32", "tie_word_embeddings": True})
    cfg_path.write_text(json.dumps(dict(sorted(cfg.items())), indent=2) + "\n")

    # Final evaluation, per split and per family.
    result = {"seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr,
              "train_seconds": round(train_seconds, 1), "params": n_params,
              "architecture": {"n_layer": args.layers, "n_embd": args.d_model, "n_head": args.heads,
                               "n_positions": args.ctx, "vocab_size": len(vocab),
                               "activation_function": "gelu_new"},
              "accuracy": {}, "mean_answer_probability": {}, "per_family": {}, "history": history,
              "errors": {}}
    for name, rows in evals.items():
        acc, prob, preds = accuracy(model, vocab, rows)
        result["accuracy"][name] = {"correct": sum(p == r["answer"] for p, r in zip(preds, rows)),
                                    "total": len(rows), "accuracy": round(acc, 4)}
        result["mean_answer_probability"][name] = round(prob, 4)
        fams = {}
        for p, r in zip(preds, rows):
            f = fams.setdefault(r["family"], [0, 0])
            f[0] += int(p == r["answer"])
            f[1] += 1
        result["per_family"][name] = {k: {"correct": c, "total": t} for k, (c, t) in sorted(fams.items())}
        result["errors"][name] = [{"prompt": r["prompt"], "answer": r["answer"], "predicted": p}
                                  for p, r in zip(preds, rows) if p != r["answer"]][:40]
    (DEMO / "eval.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["accuracy"], indent=1))
    print(json.dumps(result["per_family"], indent=1))


if __name__ == "__main__":
    main()
