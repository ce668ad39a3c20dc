"""Writes the seed corpora of the fuzz targets (Fuzz/Corpus/<Target>/) from the repository's own
examples: the bundled model and transcoder configs, trimmed fixture tokenizers, tiny safetensors
and .npz files, the job specs, one encoded wire message of every kind, corpus excerpts.
Run from the repository root: python3 Fuzz/make_corpus.py (standard library only)."""
import io, json, os, shutil, struct, zipfile

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "Fuzz", "Corpus")


def put(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


shutil.rmtree(OUT, ignore_errors=True)

# --- safetensors: 8-byte little-endian header length, JSON header, payload.
def safetensors(tensors, metadata=None):
    header, payload = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(payload), len(payload) + len(data)]}
        payload += data
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + payload

put("FuzzSafeTensors", "f32.safetensors", safetensors({"w": ("F32", [2, 3], struct.pack("<6f", *range(6)))}, {"format": "pt"}))
put("FuzzSafeTensors", "mixed.safetensors", safetensors({
    "a.f16": ("F16", [4], struct.pack("<4H", 0x3C00, 0x8001, 0x7C00, 0x7E00)),
    "b.bf16": ("BF16", [2, 2], struct.pack("<4H", 0x3F80, 0xBF80, 0x7F80, 0x0001)),
    "c.f64": ("F64", [1, 2], struct.pack("<2d", 1.5, -2.25)),
    "d.i64": ("I64", [2], struct.pack("<2q", 7, -7)),
    "e.i32": ("I32", [0], b""),
}))
put("FuzzSafeTensors", "scalar.safetensors", safetensors({"s": ("F32", [], struct.pack("<f", 3.0))}))
put("FuzzSafeTensors", "empty.safetensors", safetensors({}))
# The header of a real checkpoint (tensor names and shapes of the bundled model), payload cut.
real = read("models/demo/model/model.safetensors")
n = struct.unpack("<Q", real[:8])[0]
put("FuzzSafeTensors", "demo-header-only.safetensors", real[:8 + n])

# --- config.json (Hugging Face model configs).
for path in ["models/demo/model/config.json", "Tests/Fixtures/models/qwen3_tiny/config.json",
             "Tests/Fixtures/models/llama_rope_scaled/config.json"]:
    put("FuzzModelConfig", path.split("/")[-2] + ".json", read(path))
put("FuzzModelConfig", "gemma2.json", json.dumps({
    "architectures": ["Gemma2ForCausalLM"], "num_hidden_layers": 4, "hidden_size": 64, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128, "vocab_size": 256,
    "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "hidden_activation": "gelu_pytorch_tanh",
    "query_pre_attn_scalar": 16, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
    "sliding_window": 64, "layer_types": ["sliding_attention", "full_attention"], "rope_theta": 10000.0}, indent=1))
put("FuzzModelConfig", "rope-parameters.json", json.dumps({
    "architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 4,
    "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 64, "tie_word_embeddings": True,
    "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                        "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}, indent=1))

# --- transcoder config.yaml.
put("FuzzTranscoderConfig", "plt.yaml", read("models/demo/plt/config.yaml"))
put("FuzzTranscoderConfig", "clt.yaml", read("models/demo/clt/config.yaml"))
put("FuzzTranscoderConfig", "files.yaml", "model_kind: transcoder_set\nfeature_input_hook: ln2.hook_normalized\n"
    "feature_output_hook: mlp.hook_out\nactivation: TopK\nk: 32\ntranscoders:\n  - layer_0.npz\n  - layer_1.npz\n")
put("FuzzTranscoderConfig", "flow.yaml", "{model_kind: cross_layer_transcoder, feature_input_hook: mlp.hook_in, "
    "scan: 'x', transcoders: [a.safetensors, 'b c.safetensors']}\n")

# --- tokenizer.json: fixture tokenizers trimmed to a small vocabulary (every component kept).
fixtures = "Tests/Fixtures/tokenizers"
for name in sorted(os.listdir(os.path.join(ROOT, fixtures))):
    path = os.path.join(fixtures, name, "tokenizer.json")
    if not os.path.exists(os.path.join(ROOT, path)):
        continue
    t = json.loads(read(path))
    model = t["model"]
    if isinstance(model.get("vocab"), dict):
        vocab = model["vocab"]
        keep = {k: v for k, v in vocab.items() if v < 300}
        if "merges" in model:
            # The first 100 merges, with the tokens they join and make.
            model["merges"] = model["merges"][:100]
            for m in model["merges"]:
                a, b = m.split(" ", 1) if isinstance(m, str) else m
                for token in (a, b, a + b):
                    if token in vocab:
                        keep[token] = vocab[token]
        model["vocab"] = keep
    # A few added tokens (special and not) are enough; Gemma's list is long.
    t["added_tokens"] = t.get("added_tokens", [])[:12]
    put("FuzzTokenizer", name + ".json", json.dumps(t, ensure_ascii=False, indent=None))

# --- text through the fixture tokenizers.
lines = read("jobs/demo_corpus.jsonl").decode().splitlines()
for k, line in enumerate(lines[:6]):
    put("FuzzTokenizerEncode", f"prompt{k}.txt", json.loads(line)["prompt"])
for k, text in enumerate(["Hello, world!\n", "café naïve Å ﬁ ÅÅ", "日本語のテキストです。", "emoji 🙂👍🏽 and ZWJ 👩‍👩‍👧",
                          "<s>a</s><unk><|endoftext|><start_of_turn>", "  \t\t  \r\n\r\n   lots   of   space",
                          "don't we'll I'M 12345 3.14159", "\u0000\u001f\u007f\u0085\u2028\ufeff"]):
    put("FuzzTokenizerEncode", f"text{k}.txt", text)

# --- zip / .npz, and the .npy arrays inside.
stored = read("Tests/Fixtures/npz/stored.npz")
put("FuzzZip", "stored.npz", stored)
members = {}
with zipfile.ZipFile(io.BytesIO(stored)) as z:
    for info in z.infolist():
        members[info.filename] = z.read(info)
        put("FuzzNumPy", info.filename, members[info.filename])
def entry(name, method):  # a fixed time stamp, so that the seeds are reproducible
    return zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), method
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    for name, data in members.items():
        info, method = entry(name, zipfile.ZIP_DEFLATED)
        z.writestr(info, data, compress_type=method)
put("FuzzZip", "deflated.npz", buf.getvalue())
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    info, method = entry("b_enc.npy", zipfile.ZIP_STORED)
    z.writestr(info, members["b_enc.npy"], compress_type=method)
    z.comment = b"a comment"
put("FuzzZip", "one-entry-comment.npz", buf.getvalue())
put("FuzzZip", "empty.zip", b"PK\x05\x06" + b"\0" * 18)
put("FuzzNumPy", "tokens.npy", read("Tests/Fixtures/models/qwen3_tiny/tokens.npy"))
def npy(descr, shape, payload, major=1):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * (-(len(h) + 11 + (2 if major > 1 else 0)) % 64) + "\n"
    size = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + size + h.encode() + payload
put("FuzzNumPy", "bool-v2.npy", npy("|b1", "(3,)", b"\x00\x01\x02", major=2))
put("FuzzNumPy", "u8-scalar.npy", npy("|u1", "()", b"\x07"))
put("FuzzNumPy", "f16-2d.npy", npy("<f2", "(2, 2)", struct.pack("<4H", 0x3C00, 0, 0x7C00, 0x8400)))

# --- job specs.
for path in ["jobs/demo.yaml", "jobs/demo-plt.yaml"]:
    put("FuzzJobSpec", os.path.basename(path), read(path))
put("FuzzJobSpec", "minimal.yaml", "model: m\ntranscoders: /abs/t\ncorpus: c.txt\noutput: o\n")
put("FuzzJobSpec", "flow.yaml", "{model: m, transcoders: t, corpus: c.jsonl, output: o, workers: 4, lease_seconds: 30.5, "
    "attribution: {max_feature_nodes: 100}, statistics: {attribution: false, targets: [[1, 2], [3, 4]]}}\n")
put("FuzzJobSpec", "evaluation.yaml", "model: m\ntranscoders: t\ncorpus: c.jsonl\noutput: o\nevaluation: {features: 5, facts: f.json}\n")

# --- wire messages: "CIRC", protocol version (UInt16 BE, read from Message.swift), payload length
# (UInt32 BE), JSON of `Message` (Swift's synthesized Codable: {"case": {"label": value, "_0": value}}).
import re
version = int(re.search(r"static let version: UInt16 = (\d+)", read("Sources/Shared/Transport/Message.swift").decode()).group(1))
def frame(message):
    payload = json.dumps(message, separators=(",", ":")).encode()
    return b"CIRC" + struct.pack(">HI", version, len(payload)) + payload
job = {"model": "/m", "transcoders": "/t", "corpus": "/c.jsonl", "output": "/o", "promptsPerTask": 8, "workers": 2,
       "leaseSeconds": 120, "heartbeatSeconds": 2,
       "attribution": {"maxLogits": 10, "logitProb": 0.95, "batchSize": 256, "updateInterval": 4},
       "pruning": {"nodeThreshold": 0.8, "edgeThreshold": 0.98},
       "statistics": {"attribution": True, "targets": [[0, 1]]},
       "evaluation": {"features": 10, "facts": "/facts.json"}}
messages = {
    "hello": {"hello": {"workerID": "w1", "capabilities": {"host": "h", "pid": 42, "threads": 2, "version": "1.0"}}},
    "ready": {"ready": {"workerID": "w1"}},
    "heartbeat": {"heartbeat": {"workerID": "w1", "taskID": 3, "attempt": 1}},
    "heartbeat-idle": {"heartbeat": {"workerID": "w1"}},
    "result": {"result": {"_0": {"taskID": 3, "attempt": 2, "workerID": "w1", "sha256": "ab" * 32,
                                 "promptsDone": 7, "promptsFailed": 1, "seconds": 1.5}}},
    "failure": {"failure": {"taskID": 3, "attempt": 1, "workerID": "w1", "reason": "disk full", "transient": True}},
    "goodbye": {"goodbye": {"workerID": "w1", "reason": "stopping"}},
    "job": {"job": {"_0": job}},
    "reject": {"reject": {"reason": "version"}},
    "task": {"task": {"_0": {"taskID": 3, "attempt": 1, "jobHash": "cd" * 32,
                             "prompts": [{"id": "p1", "text": "The capital of France is"}, {"id": "p2", "text": "é", "label": "x"}]}}},
    "task-swaps": {"task": {"_0": {"taskID": 40, "attempt": 1, "jobHash": "cd" * 32,
                                   "prompts": [{"id": "csc-000", "text": "fact : the capital of the state containing dallas is", "label": "texas"}],
                                   "swaps": [{"id": "csc-000", "bridge": "texas", "target": "california", "answer": "austin",
                                              "targetAnswer": "sacramento", "bridgeFeatures": [[1, 2]], "targetFeatures": [[0, 5]],
                                              "targetValues": [1.5]}]}}},
    "idle": {"idle": {"retryMilliseconds": 250}},
    "shutdown": {"shutdown": {}},
    "shardStart": {"shardStart": {"_0": {"workerID": "w1", "taskID": 3, "attempt": 2, "totalBytes": 433604, "sha256": "ab" * 32}}},
    "shardChunk": {"shardChunk": {"_0": {"workerID": "w1", "taskID": 3, "attempt": 2, "offset": 1048576,
                                         "sha256": "9f" * 32, "bytes": "iUhERg0KGgo="}}},
    "shardAck": {"shardAck": {"_0": {"taskID": 3, "attempt": 2, "offset": 1048584}}},
}
for name, message in messages.items():
    put("FuzzMessage", name + ".msg", frame(message))

# --- prompt corpora.
put("FuzzCorpus", "demo.jsonl", "\n".join(lines[:8]) + "\n")
put("FuzzCorpus", "mixed.jsonl", '{"id": 1, "prompt": "a"}\r\n\n{"id": "1", "prompt": "dup"}\n{"id": "x", "prompt": ""}\n'
    '{"id": "y"}\nnot json\n{"id": "z", "prompt": "p", "label": 3}\n[1, 2]\n{"id": "w", "prompt": "ok", "label": "L"}\n')
put("FuzzCorpus", "plain.txt", read("models/demo/transcoder_corpus.txt")[:600])
