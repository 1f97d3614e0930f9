#!/usr/bin/env python3
"""Independent float64 GPT-2 reference for the Java engine's tests (numpy only, no torch).

Usage: gpt2_reference.py --model DIR --ids 1,2,3 [--generate N] [--logits-out FILE]
Runs the whole sequence at once (no KV cache). Prints one JSON line:
  {"argmax": [argmax of each position], "generated": [greedy continuation of N tokens]}
and, with --logits-out, writes the logits of every input position as raw little-endian float64 [T, vocab].
"""
import argparse, json, struct
import numpy as np

DTYPES = {"F32": "<f4", "F16": "<f2", "U8": "u1", "BOOL": "u1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, DTYPES[info["dtype"]])
        tensors[name.removeprefix("transformer.")] = arr.astype(np.float64).reshape(info["shape"])
    return tensors


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu_new(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def forward(t, cfg, ids):
    """Logits [T, vocab] for the token ids, computed over the full sequence with a causal mask."""
    T, E, H = len(ids), cfg["n_embd"], cfg["n_head"]
    hd = E // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    x = t["wte.weight"][ids] + t["wpe.weight"][:T]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        a = layer_norm(x, t[p + "ln_1.weight"], t[p + "ln_1.bias"], eps)
        qkv = a @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]  # Conv1D: [in, out]
        q, k, v = (m.reshape(T, H, hd).transpose(1, 0, 2) for m in np.split(qkv, 3, axis=-1))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        y = (probs @ v).transpose(1, 0, 2).reshape(T, E)
        x = x + y @ t[p + "attn.c_proj.weight"] + t[p + "attn.c_proj.bias"]
        m = layer_norm(x, t[p + "ln_2.weight"], t[p + "ln_2.bias"], eps)
        m = gelu_new(m @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"])
        x = x + m @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    x = layer_norm(x, t["ln_f.weight"], t["ln_f.bias"], eps)
    return x @ t["wte.weight"].T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--generate", type=int, default=0)
    ap.add_argument("--logits-out")
    a = ap.parse_args()
    with open(f"{a.model}/config.json") as f:
        cfg = json.load(f)
    t = read_safetensors(f"{a.model}/model.safetensors")
    ids = [int(s) for s in a.ids.split(",")]
    logits = forward(t, cfg, ids)
    if a.logits_out:
        logits.astype("<f8").tofile(a.logits_out)
    generated, seq = [], list(ids)
    for _ in range(a.generate):
        nxt = int(np.argmax(forward(t, cfg, seq)[-1]))
        generated.append(nxt)
        seq.append(nxt)
    print(json.dumps({"argmax": [int(i) for i in logits.argmax(-1)], "generated": generated}))


if __name__ == "__main__":
    main()
