#!/usr/bin/env python3
"""Writes the tokenizer fixtures read by Tests/TracerTests/TokenizerTests.swift.

A development tool only: the Swift package never runs Python. Requires the `tokenizers`
package (https://pypi.org/project/tokenizers/). Run from anywhere:

    python3 Tests/Fixtures/tokenizers/generate_tokenizer_fixtures.py

For each fixture it trains a small tokenizer on the built-in corpus below, saves
`<name>/tokenizer.json` (plus `tokenizer_config.json` where roles matter) and writes
`<name>/cases.json`: for every test string, what `tokenizers` produced:

    text                    the input
    ids                     encode(text, add_special_tokens=False).ids
    ids_with_special_tokens encode(text, add_special_tokens=True).ids
    decoded                 decode(ids, skip_special_tokens=True)
    decoded_skip_special    decode(ids_with_special_tokens, skip_special_tokens=True)
    decoded_keep_special    decode(ids_with_special_tokens, skip_special_tokens=False)
    error                   (instead of the above) the exception text, when encode fails
    unknown_word            with error: the first pre-tokenized word missing from the vocabulary

The outputs are committed. Rerunning reproduces the byte-level fixtures exactly; the ones
trained with `limit_alphabet` (gemma_bpe, metaspace_bpe, subword_bpe) may pick a different
alphabet where character counts tie, which changes their ids but never the agreement between
`tokenizer.json` and `cases.json`, written together. The Unicode-version rules the Swift side
mirrors (normalization tables 9.0, punctuation 8.0, regex `\w` 16.0) were measured on
`tokenizers` 0.22-0.23.
"""

import json
import os
import random

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

PARAGRAPHS = [
    "The attribution graph shows which features of the replacement model drive the logit of the next token.",
    "Transcoders read the residual stream before each MLP and write their reconstruction after it.",
    "A cross-layer transcoder writes to every later layer; a per-layer transcoder only to its own.",
    "We prune the graph by node influence and then by edge influence, keeping 80% and 98% of it.",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! the quick brown fox?",
    "It's a test, isn't it? They're here, we've seen them, I'm sure you'll agree, he'd say.",
    "def attribute(prompt, model, transcoders):\n    tokens = model.ensure_tokenized(prompt)\n    return graph\n",
    "for (int i = 0; i < n; i++) { sum += x[i] * w[i]; }  // 0x1F, 3.14159, 1e-10, 42",
    "Numbers: 1, 12, 123, 1234, 12345, 123456789, 2024-05-17, 3.5%, $100.00, #7.",
    "Le café est très bon à Paris ; où est la bibliothèque ? Ça va très bien, merci.",
    "Grüße aus München! Die Straße ist groß und schön. Äpfel, Öl und Übermut.",
    "日本語のテキストです。東京は大きな都市です。中文文本也在这里。",
    "Привет, мир! Это тест токенизатора. Γειά σου κόσμε. שלום עולם. مرحبا بالعالم.",
    "Emoji: 😀 🎉 👍🏽 👨‍👩‍👧 🇫🇷 🇯🇵 ❤️ — and symbols © ® ™ € £ ¥ ± × ÷ → ∑ ∞.",
    "Tabs\tand\nnewlines\r\nand   multiple    spaces   everywhere  \n\n\n  indented line",
    "<html><body><p class=\"x\">Hello &amp; welcome</p></body></html>",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;",
    "naïve coöperate résumé façade jalapeño Zürich São Paulo Kraków Ångström",
]

BASE_STRINGS = [
    "", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "a", "A", "ab", "the", " the", "the ",
    "Hello world", "Hello, world!", "hello   world", "  leading", "trailing  ", "\tindented\ttabs\t",
    "line one\nline two\r\nline three\rend", "a\u00a0b", "x\u2003y", "zero\u200bwidth", "joiner\u200dtest",
    "bell\u0007char", "null\u0000char", "escape\u001b[0m", "\u000b\u000cvertical",
    "It's", "it's", "IT'S", "They're", "we've", "I'm", "you'll", "he'd", "don't", "DON'T", "it’s",
    "'s", "''", "'", "' s",
    "0", "7", "42", "123", "1234", "12345", "1234567890", "3.14159", "-42", "1e-10", "$100.00", "50%",
    "2024-05-17", "٣٤٥", "١٢٣٤", "Ⅻ", "½ ¼ ²",
    "café", "cafe\u0301", "naïve", "nai\u0308ve", "Crème brûlée", "Ångström", "e\u0301\u0301",
    "a\u0300\u0301\u0302", "Ǆ ǅ ǆ", "ﬁ ligature", "ＦＵＬＬＷＩＤＴＨ", "ｶﾀｶﾅ",
    "日本語", "中文文本", "한국어 텍스트", "Привет мир", "Γειά σου", "שלום", "مرحبا", "नमस्ते", "ภาษาไทย",
    "😀", "🎉🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🏳️‍🌈", "a😀b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𐍈",
    "#!/usr/bin/env python", "def f(x):\n    return x**2\n", "if (a && b) { return; }", "x = [1, 2, 3]",
    "<div class=\"c\">text</div>", "foo_bar_baz", "CamelCaseIdentifier", "snake_case_42", "path/to/file.txt",
    "https://example.com/a?b=c&d=e", "user@example.com", "C:\\Windows\\System32",
    "!!!", "???", "...", "---", "===", "((()))", "«guillemets»", "“quotes”", "— –",
    "The quick brown fox jumps over the lazy dog.",
    "the attribution graph of the replacement model",
    "Transcoders read the residual stream.",
]

# Strings around the added tokens each fixture defines (filled in per fixture).
ADDED_TOKEN_TEMPLATES = ["{t}", " {t}", "{t} ", " {t} ", "x{t}y", "x {t} y", "{t}{t}", "a{t}", "{t}b",
                         "hello {t}world", "{t}\n{t}", "  {t}  ", "The{t}", "{t}'s"]

FRAGMENTS = ["the", " model", " graph", ",", ".", " ", "  ", "\n", "\t", "\r\n", "It's", " 123", "4567",
             " café", " naïve", " 日本", " 😀", "👍🏽", " Привет", "!", " (x)", "_", "—", "e\u0301", " ü",
             "\u200b", " are", " were", "'ll", "DON'T", "  \n  ", " 3.5", "%"]


def random_strings(seed, count):
    rng = random.Random(seed)
    return ["".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(2, 14))) for _ in range(count)]


# Characters that exercise Unicode-version and normalization corner cases: combining marks
# (including the non-starter decompositions U+0344, U+0F73, U+0F75, U+0F81), supplementary-
# plane starters, characters newer than the Unicode tables `tokenizers` uses (9.0 for
# normalization, 8.0 for punctuation), white space of every kind, and control characters.
HARD_POOL = (list("aeoAEOnNcC '\".,!?-_()[]{}<>") + [chr(c) for c in range(0x300, 0x370)]
             + list("\u0344\u0f73\u0f75\u0f81\u0f71\u0f72\u0f80\u0317\u05b0\u093c\u3099\u309a\u20dd")
             + list("\U00010048\U00011099\U000110ba\U00011131\U00011127\U00011f41\U0001d15e\U0001d165")
             + list("\u2e52\U00011664\U00016ff4\U00018d88\U0001f16c\ufb01\u2460\uff21\u00bd\u212b\uac00\u1100\u1161")
             + list("\t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000\u200b\u200c\u200d\ufeff\x00\x07\x1b"))


def hard_strings(seed, count):
    rng = random.Random(seed)
    def character():
        if rng.random() < 0.75:
            return rng.choice(HARD_POOL)
        while True:  # any code point but a surrogate, assigned or not
            code = rng.randint(0x20, 0x3FFFF)
            if not 0xD800 <= code < 0xE000:
                return chr(code)
    return ["".join(character() for _ in range(rng.randint(1, 16))) for _ in range(count)]


def long_string(seed):
    rng = random.Random(seed)
    words = " ".join(PARAGRAPHS).split(" ")
    return " ".join(rng.choice(words) for _ in range(1200))


def corpus():
    return PARAGRAPHS * 30 + BASE_STRINGS * 3 + random_strings(7, 300)


def run_cases(tok, strings):
    cases = []
    for text in strings:
        try:
            ids = tok.encode(text, add_special_tokens=False).ids
            ids_special = tok.encode(text, add_special_tokens=True).ids
        except Exception as error:  # recorded: the Swift side must fail on the same strings
            case = {"text": text, "error": str(error)}
            vocab = tok.get_vocab()
            words = [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(text)] if tok.pre_tokenizer else [text]
            case["unknown_word"] = next((w for w in words if w not in vocab), None)
            cases.append(case)
            continue
        cases.append({
            "text": text,
            "ids": ids,
            "ids_with_special_tokens": ids_special,
            "decoded": tok.decode(ids, skip_special_tokens=True),
            "decoded_skip_special": tok.decode(ids_special, skip_special_tokens=True),
            "decoded_keep_special": tok.decode(ids_special, skip_special_tokens=False),
        })
    return cases


def save(name, tok, description, added_contents, seed, config=None):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    if config is not None:
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)
            f.write("\n")
    strings = list(BASE_STRINGS)
    for content in added_contents:
        strings += [template.format(t=content) for template in ADDED_TOKEN_TEMPLATES]
    strings += random_strings(seed, 40)
    strings += hard_strings(seed, 100)
    strings.append(long_string(seed))
    payload = {
        "tokenizer": f"{name}/tokenizer.json",
        "tokenizers_version": tokenizers.__version__,
        "description": description,
        "fields": __doc__.split("cases.json`: for every test string, what `tokenizers` produced:")[1].split("The outputs")[0].strip(),
        "cases": run_cases(tok, strings),
    }
    cases = payload.pop("cases")
    header = json.dumps(payload, ensure_ascii=False, indent=1)[:-2]  # without the closing "\n}"
    with open(os.path.join(folder, "cases.json"), "w", encoding="utf-8") as f:  # one case per line
        f.write(header + ',\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(case, ensure_ascii=False) for case in cases))
        f.write("\n ]\n}\n")
    print(f"{name}: vocab {tok.get_vocab_size()}, {len(strings)} cases")


def byte_level_trainer(vocab_size, special_tokens=()):
    return trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                               special_tokens=list(special_tokens),
                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def gpt2_bpe():
    """GPT-2 style: ByteLevel pre-tokenizer with add_prefix_space, the GPT-2 regex, RoBERTa-like
    added tokens (<mask> with lstrip), a single_word token and a normalized one."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.train_from_iterator(corpus(), byte_level_trainer(700))
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False),
                            AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("[NEW]", single_word=True, normalized=False),
                    AddedToken("graph node", normalized=True),
                    AddedToken("<tab>", rstrip=True, normalized=False)])
    config = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
              "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer"}
    save("gpt2_bpe", tok, "GPT-2 style byte-level BPE (add_prefix_space=True, GPT-2 regex), ByteLevel decoder and "
         "post-processor; added tokens <|endoftext|> (special), <mask> (special, lstrip), [NEW] (single_word), "
         "'graph node' (normalized), <tab> (rstrip)",
         ["<|endoftext|>", "<mask>", "[NEW]", "graph node", "<tab>"], 11, config)


def llama3_bpe():
    """Llama-3 style: Split(Llama-3 regex, Isolated) + ByteLevel(use_regex=False), ignore_merges,
    TemplateProcessing prepending <|begin_of_text|>."""
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus(), byte_level_trainer(800))
    tok.add_special_tokens([AddedToken("<|begin_of_text|>", special=True, normalized=False),
                            AddedToken("<|end_of_text|>", special=True, normalized=False),
                            AddedToken("<|eot_id|>", special=True, normalized=False)])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "tokenizer_class": "PreTrainedTokenizerFast"}
    save("llama3_bpe", tok, "Llama-3 style byte-level BPE: Split(Llama-3 regex, Isolated) + ByteLevel(use_regex=False), "
         "ignore_merges, TemplateProcessing '<|begin_of_text|> $A'",
         ["<|begin_of_text|>", "<|eot_id|>"], 12, config)


def qwen2_bpe():
    """Qwen-2 style: NFC normalizer, Split(Qwen-2 regex) + ByteLevel, no post-processing."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.train_from_iterator(corpus(), byte_level_trainer(800))
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False),
                            AddedToken("<|im_start|>", special=True, normalized=False),
                            AddedToken("<|im_end|>", special=True, normalized=False)])
    config = {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": None,
              "additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "tokenizer_class": "Qwen2Tokenizer"}
    save("qwen2_bpe", tok, "Qwen-2 style byte-level BPE: NFC, Split(Qwen-2 regex, single digits) + ByteLevel",
         ["<|im_start|>", "<|endoftext|>"], 13, config)


def gemma_bpe():
    """Gemma style SentencePiece BPE: Replace(' ', '▁') normalizer, no pre-tokenizer, byte fallback,
    decoder Replace + ByteFallback + Fuse, <bos> prepended."""
    specials = ["<pad>", "<eos>", "<bos>", "<unk>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    trainer = trainers.BpeTrainer(vocab_size=900, min_frequency=2, show_progress=False, limit_alphabet=150,
                                  special_tokens=specials + byte_tokens)
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A <bos> $B",
                                                       special_tokens=[("<bos>", tok.token_to_id("<bos>"))])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    tok.add_tokens([AddedToken("<start_of_turn>", normalized=False), AddedToken("<end_of_turn>", normalized=False)])
    config = {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>",
              "additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"], "tokenizer_class": "GemmaTokenizer"}
    save("gemma_bpe", tok, "Gemma style BPE: Replace(' ', '▁'), no pre-tokenizer, byte_fallback, fuse_unk, "
         "limited alphabet (rare characters fall back to <0xXX>), decoder Replace+ByteFallback+Fuse, <bos> prepended",
         ["<bos>", "<start_of_turn>"], 14, config)


def metaspace_bpe():
    """Llama-2 style (newer conversion): Metaspace pre-tokenizer (prepend_scheme first, split false),
    byte fallback, Metaspace decoder after ByteFallback + Fuse."""
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)])
    trainer = trainers.BpeTrainer(vocab_size=900, min_frequency=2, show_progress=False, limit_alphabet=150,
                                  special_tokens=specials + byte_tokens)
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A </s> <s> $B",
                                                       special_tokens=[("<s>", 1), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None,
              "tokenizer_class": "LlamaTokenizer"}
    save("metaspace_bpe", tok, "Llama-2 style BPE: Metaspace(prepend_scheme=first, split=False), byte_fallback, "
         "decoder ByteFallback+Fuse+Metaspace, <s> prepended", ["<s>", "</s>"], 15, config)


def subword_bpe():
    """BPE with continuing_subword_prefix and end_of_word_suffix, unk, normalizers NFD + Lowercase +
    Strip, pre-tokenizers WhitespaceSplit + Punctuation + Digits, RobertaProcessing, no decoder."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                 pre_tokenizers.Digits(individual_digits=True)])
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2, show_progress=False, limit_alphabet=60,
                                  special_tokens=["[UNK]", "[CLS]", "[SEP]"],
                                  continuing_subword_prefix="##", end_of_word_suffix="</w>")
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.RobertaProcessing(("[SEP]", 2), ("[CLS]", 1))
    save("subword_bpe", tok, "BPE with '##' continuing prefix and '</w>' suffix, [UNK] (limited alphabet), "
         "NFD+Lowercase+Strip, WhitespaceSplit+Punctuation+Digits(individual), RobertaProcessing, no decoder",
         ["[CLS]"], 16)


def word_level():
    """WordLevel with the Whitespace pre-tokenizer, NFKC normalizer and an unknown token."""
    words = sorted({w for text in PARAGRAPHS for w in pre_tokenizers.Whitespace().pre_tokenize_str(text) for w in [w[0]]})
    vocab = {"[UNK]": 0, "[PAD]": 1}
    for word in words:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens([AddedToken("[PAD]", special=True, normalized=False)])
    save("wordlevel", tok, "WordLevel, Whitespace pre-tokenizer (\\w+|[^\\w\\s]+), NFKC, [UNK] = 0", ["[PAD]"], 17)

    # The same vocabulary without an unknown token, split on white space: unknown words fail.
    strict = Tokenizer(models.WordLevel(vocab=vocab, unk_token=None))
    strict.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    save("wordlevel_no_unk", strict, "WordLevel, WhitespaceSplit, no unknown token: unknown words are errors", [], 18)


if __name__ == "__main__":
    gpt2_bpe()
    llama3_bpe()
    qwen2_bpe()
    gemma_bpe()
    metaspace_bpe()
    subword_bpe()
    word_level()
