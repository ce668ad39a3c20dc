#!/usr/bin/env python3
"""Checks that the Swift engine loads the demo model and agrees with PyTorch on its prediction.

There are no trained transcoders for the demo model yet, so this writes a throwaway per-layer
transcoder set with random weights (circuit-tracer's native PLT layout: config.yaml +
layer_{l}.safetensors with W_enc/W_dec [d_transcoder, d_model], b_enc, b_dec) into a temporary
folder, runs `circuits trace` on a few prompts and compares the engine's printed top logit with
the PyTorch model's argmax (the transcoders do not change the model's own logits).

    python tools/demo_model/check_engine.py --circuits .build/release/circuits [--plt /tmp/demo_plt]
"""
import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import GPT2LMHeadModel

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "demo" / "model"
BOS = "<|endoftext|>"


def write_random_plt(folder: Path, n_layers: int, d_model: int, d_transcoder: int = 512, seed: int = 0):
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    (folder / "config.yaml").write_text(
        "model_name: demo (random PLT for an engine smoke test; not trained)\n"
        "model_kind: transcoder_set\n"
        "feature_input_hook: hook_resid_mid\n"
        "feature_output_hook: hook_mlp_out\n")
    for l in range(n_layers):
        save_file({
            "W_enc": (torch.randn(d_transcoder, d_model, generator=g) / d_model ** 0.5).contiguous(),
            "b_enc": torch.zeros(d_transcoder),
            "W_dec": (torch.randn(d_transcoder, d_model, generator=g) * 0.02).contiguous(),
            "b_dec": torch.zeros(d_model),
        }, str(folder / f"layer_{l}.safetensors"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--circuits", default=str(ROOT / ".build" / "release" / "circuits"))
    ap.add_argument("--plt", type=Path, default=None, help="where to write the random PLT (default: a temp dir)")
    args = ap.parse_args()

    vocab = json.loads((MODEL / "tokenizer.json").read_text())["model"]["vocab"]
    inv = {i: w for w, i in vocab.items()}
    model = GPT2LMHeadModel.from_pretrained(MODEL).float().eval()
    cfg = model.config
    facts = json.loads((ROOT / "models" / "demo" / "facts.json").read_text())
    picks = []  # the first train and the first held-out prompt of every family
    for fam in dict.fromkeys(f["family"] for f in facts):
        for split in ("train", "heldout"):
            picks.append(next(f for f in facts if f["family"] == fam and f["split"] == split))

    plt = args.plt or Path(tempfile.mkdtemp(prefix="demo_plt_"))
    write_random_plt(plt, cfg.n_layer, cfg.n_embd)
    rows = []
    for f in picks:
        ids = torch.tensor([[vocab[BOS]] + [vocab[w] for w in f["prompt"].split()]])
        with torch.no_grad():
            p = torch.softmax(model(input_ids=ids).logits[0, -1], -1)
        top = torch.topk(p, 3)
        torch_top = [(inv[int(i)], round(float(v), 3)) for v, i in zip(top.values, top.indices)]
        out = subprocess.run([args.circuits, "trace", "--model", str(MODEL), "--transcoders", str(plt),
                              "--prompt", f["prompt"], "--max-logits", "3",
                              "--out", str(plt / f"{f['id']}.h5")], capture_output=True, text=True)
        text = out.stdout + out.stderr
        m = re.search(r'^logits\s+(.*)$', text, re.M)
        engine = re.findall(r'"([^"]+)" ([0-9.]+)', m.group(1)) if m else []
        engine_top = [(w, float(v)) for w, v in engine]
        ok = out.returncode == 0 and bool(engine_top) and engine_top[0][0] == torch_top[0][0]
        rows.append({"id": f["id"], "split": f["split"], "prompt": f["prompt"], "answer": f["answer"],
                     "torch_top": torch_top, "engine_top": engine_top, "rc": out.returncode, "agree": ok})
        print(json.dumps(rows[-1]))
        if out.returncode != 0 or not m:
            print(text)
    print(f"agree {sum(r['agree'] for r in rows)}/{len(rows)}  (random PLT in {plt})")


if __name__ == "__main__":
    main()
