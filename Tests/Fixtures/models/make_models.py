"""Tiny seeded random Hugging Face models and their logits, for ModelFixtureTests.

  qwen3_tiny/        Qwen3ForCausalLM: per-head q/k RMSNorm, GQA (4 query / 2 key-value heads),
                     head_dim 16 != hidden/heads, tied embeddings.
  llama_rope_scaled/ LlamaForCausalLM with rope_scaling {rope_type: llama3}: theta 500000 and
                     original_max_position_embeddings 64, so that the 8 rotary frequencies fall in
                     all three regimes (kept, smoothed, divided by the factor); untied lm_head.

Each folder: config.json + model.safetensors (float32, save_pretrained) + tokens.npy (int64,
the ids fed) + logits.npy (float32 [n_pos, vocab], HF's forward in float64, rounded) +
hidden_final.npy. Weights are redrawn so that norms and q/k norms are not identity.

Run: python3 make_models.py   (torch CPU, transformers; deterministic)
"""
import json
import os

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
N_POS = 24


def redraw(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 1:  # norm weights (Qwen3/Llama: weight used as is)
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype))
            elif "embed_tokens" in name or "lm_head" in name:
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype) * 2 / p.shape[1] ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype) * 1.5 / p.shape[1] ** 0.5)


def save(model, name, seed):
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    for extra in ["generation_config.json"]:
        path = os.path.join(out, extra)
        if os.path.exists(path):
            os.remove(path)
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, model.config.vocab_size, size=N_POS).astype(np.int64)
    m64 = model.to(torch.float64).eval()
    with torch.no_grad():
        o = m64(torch.tensor(tokens)[None], output_hidden_states=True)
    np.save(os.path.join(out, "tokens.npy"), tokens)
    np.save(os.path.join(out, "logits.npy"), o.logits[0].numpy().astype(np.float32))
    print(name, "logits", o.logits.shape, "max |logit|", float(o.logits.abs().max()))


torch.manual_seed(0)
qwen = Qwen3ForCausalLM(Qwen3Config(
    vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, head_dim=16, max_position_embeddings=64, rope_theta=10000.0, rms_norm_eps=1e-6,
    tie_word_embeddings=True, attention_bias=False, bos_token_id=1, eos_token_id=2))
redraw(qwen, 1)
save(qwen, "qwen3_tiny", 11)

torch.manual_seed(0)
llama = LlamaForCausalLM(LlamaConfig(
    vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5, tie_word_embeddings=False,
    rope_theta=500000.0,
    rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 64, "rope_theta": 500000.0},
    bos_token_id=1, eos_token_id=2))
redraw(llama, 2)
save(llama, "llama_rope_scaled", 12)
