# SPDX-License-Identifier: MIT
"""Module-level round trip with the real PyTorch 1.13 and NumPy: a model trained in PyTorch is saved with
torch.save, np.savez and a safetensors writer written from the spec; tapegrad loads each and must give
PyTorch's outputs. tapegrad then trains a step and saves in every format; PyTorch loads each with
load_state_dict and must give tapegrad's outputs.

Usage: /usr/bin/python3 model_interop.py <io_model_interop executable> <work dir>
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(50, 8, mode="mean")
        self.fc = nn.Linear(8, 3)

    def forward(self, tokens, offsets):
        return self.fc(self.bag(tokens, offsets))


def save_safetensors(path, tensors):
    """A safetensors writer from the spec: u64 header length, JSON header, row-major little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    """A safetensors reader from the spec (F32 only, which is what tapegrad writes for float)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e
        begin, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + begin : 8 + n + end], dtype="<f4").reshape(e["shape"]).copy())
    return out


def read_values(path):
    with open(path) as f:
        return torch.tensor([float(line) for line in f], dtype=torch.float32)


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    tokens = torch.randint(0, 50, (20,))
    offsets = torch.tensor([0, 3, 9, 12, 17])
    labels = torch.tensor([0, 2, 1, 1, 0])
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    for _ in range(3):  # weights that are not the initial ones
        opt.zero_grad()
        nn.functional.cross_entropy(net(tokens, offsets), labels).backward()
        opt.step()
    sd = net.state_dict()
    torch.save(sd, os.path.join(work, "net.pt"))
    np.savez(os.path.join(work, "net.npz"), **{k: v.numpy() for k, v in sd.items()})
    save_safetensors(os.path.join(work, "net.safetensors"), sd)
    with open(os.path.join(work, "inputs.txt"), "w") as f:
        for t in (tokens, offsets, labels):
            f.write(" ".join(str(int(v)) for v in t) + "\n")

    subprocess.run([tool, work], check=True)
    failures = 0
    with torch.no_grad():
        expected = net(tokens, offsets).flatten()
    for name in ("net.pt", "net.npz", "net.safetensors"):
        got = read_values(os.path.join(work, "out_" + name + ".txt"))
        if not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
            print(f"FAILED: tapegrad's output from {name} differs from PyTorch's: {got} vs {expected}")
            failures += 1
        else:
            print(f"ok: {name} written by PyTorch/NumPy loads in tapegrad with the same outputs")

    cpp_out = read_values(os.path.join(work, "out_cpp.txt"))
    loaded = torch.load(os.path.join(work, "cpp.pt"))
    if type(loaded).__name__ != "OrderedDict":
        print(f"FAILED: torch.load returned {type(loaded)}, not an OrderedDict")
        failures += 1
    state_dicts = {
        "cpp.pt": loaded,
        "cpp.npz": {k: torch.from_numpy(v) for k, v in np.load(os.path.join(work, "cpp.npz")).items()},
        "cpp.safetensors": load_safetensors(os.path.join(work, "cpp.safetensors")),
    }
    for name, state in state_dicts.items():
        model = Net()
        model.load_state_dict(state)  # strict, as PyTorch's default
        with torch.no_grad():
            got = model(tokens, offsets).flatten()
        if not torch.allclose(got, cpp_out, rtol=1e-5, atol=1e-6):
            print(f"FAILED: PyTorch's output from {name} differs from tapegrad's: {got} vs {cpp_out}")
            failures += 1
        else:
            print(f"ok: {name} written by tapegrad loads in PyTorch with load_state_dict and the same outputs")
    print(f"{6 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
