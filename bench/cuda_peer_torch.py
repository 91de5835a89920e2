#!/usr/bin/env python3
"""PyTorch bf16 peer for `anychip bench --device cuda`: the same model's weight matrices, multiplied
in the same order a Llama-style forward pass multiplies them, on the same GPU.

usage: bench/cuda_peer_torch.py ANYCHIP_BIN MODEL.gguf [PROMPT_TOKENS]

Reads the shapes from `anychip info MODEL.gguf`, builds random bf16 weights of those shapes and
times (a) one decode step (every layer's q/k/v/o and gate/up/down matrix-vector products plus
the output projection, batch 1), replayed as a CUDA graph as a tuned PyTorch decoder would, and
(b) a prefill of PROMPT_TOKENS tokens (the same products as matrix-matrix). Attention, norms
and RoPE are left out, so the numbers are an upper bound for a PyTorch implementation: a
conservative peer for anychip's ratios. Prints one JSON object.
"""
import json
import re
import subprocess
import sys
import time


def model_shapes(anychip, path):
    info = subprocess.run([anychip, "info", path], check=True, capture_output=True, text=True).stdout
    layers, embd, ff = map(int, re.search(r"layers:\s+(\d+), embedding (\d+), FFN (\d+)", info).groups())
    n_head, n_kv, head = map(int, re.search(r"heads:\s+(\d+) query, (\d+) key/value, head size (\d+)", info).groups())
    vocab = int(re.search(r"vocabulary:\s+(\d+)", info).group(1))
    return dict(layers=layers, embd=embd, ff=ff, q=n_head * head, kv=n_kv * head, vocab=vocab)


def main():
    import torch

    anychip, path = sys.argv[1], sys.argv[2]
    prompt = int(sys.argv[3]) if len(sys.argv) > 3 else 512
    s = model_shapes(anychip, path)
    dev = torch.device("cuda")
    bf16 = torch.bfloat16
    E = s["embd"]
    layer_shapes = [(s["q"], E), (s["kv"], E), (s["kv"], E), (E, s["q"]), (s["ff"], E), (s["ff"], E), (E, s["ff"])]
    weights = [[torch.randn(o, i, device=dev, dtype=bf16) * 0.02 for o, i in layer_shapes] for _ in range(s["layers"])]
    output = torch.randn(s["vocab"], E, device=dev, dtype=bf16) * 0.02
    weight_bytes = 2 * (sum(w.numel() for layer in weights for w in layer) + output.numel())

    def forward(x):
        for wq, wk, wv, wo, wg, wu, wd in weights:
            q = torch.nn.functional.linear(x, wq)
            torch.nn.functional.linear(x, wk)
            torch.nn.functional.linear(x, wv)
            x = x + torch.nn.functional.linear(q, wo)
            h = torch.nn.functional.silu(torch.nn.functional.linear(x, wg)) * torch.nn.functional.linear(x, wu)
            x = x + torch.nn.functional.linear(h, wd)
        return torch.nn.functional.linear(x[-1:], output)

    def timed(fn, repeats):
        fn()
        torch.cuda.synchronize()
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            torch.cuda.synchronize()
            best = min(best, time.perf_counter() - start)
        return best

    x1 = torch.randn(1, E, device=dev, dtype=bf16)
    with torch.no_grad():
        forward(x1)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            forward(x1)
        steps = 32
        decode = timed(lambda: [graph.replay() for _ in range(steps)], 5) / steps
        decode_eager = timed(lambda: forward(x1), 5)
        xp = torch.randn(prompt, E, device=dev, dtype=bf16)
        prefill = timed(lambda: forward(xp), 5)
    print(json.dumps({
        "peer": "pytorch " + torch.__version__ + " bf16 (matmul chain only)",
        "gpu": torch.cuda.get_device_name(0),
        "shapes": s,
        "weight_bytes": weight_bytes,
        "decode_tok_s_graph": 1.0 / decode,
        "decode_tok_s_eager": 1.0 / decode_eager,
        "decode_bandwidth_gbs": weight_bytes / decode / 1e9,
        "prefill_tokens": prompt,
        "prefill_tok_s": prompt / prefill,
    }))


if __name__ == "__main__":
    main()
