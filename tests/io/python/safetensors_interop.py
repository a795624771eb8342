#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""safetensors interop: files written here from the spec (struct + json + NumPy/PyTorch values) are
loaded by tapegrad's io_safetensors_interop tool, which saves what it read with save_safetensors;
this script reads tapegrad's files with a reader written from the spec and checks every value
exactly, the header (valid JSON, 8-byte aligned data, offsets tiling the data) and the metadata.

Usage: safetensors_interop.py <io_safetensors_interop binary> <work directory>
Fails (does not skip) if torch or numpy is missing.
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

TOOL, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
      "BF16": "<u2"}  # BF16 as its raw bits


def write_st(path, tensors, metadata=None, reverse_header=False):
    """The spec: u64 LE header length, JSON header (padded with spaces), row-major LE data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, array) in tensors.items():
        raw = np.ascontiguousarray(array).astype(NP[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if reverse_header:
        header = dict(reversed(list(header.items())))
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_st(path):
    """The spec, strictly: returns ({name: (dtype, ndarray)} in offset order, metadata, raw header)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0, f"{path}: header length {n} is not a multiple of 8"
    raw = data[8:8 + n]
    header = json.loads(raw.decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])
    end = 0
    out = {}
    for name, info in entries:
        assert set(info) == {"dtype", "shape", "data_offsets"}, info
        begin, stop = info["data_offsets"]
        assert begin == end, f"{name}: offsets {begin} != {end}"
        end = stop
        array = np.frombuffer(body[begin:stop], dtype=NP[info["dtype"]]).reshape(info["shape"])
        assert array.nbytes == stop - begin
        out[name] = (info["dtype"], array)
    assert end == len(body), f"{path}: {len(body) - end} bytes not covered"
    return out, metadata, raw


def run_tool(src, dst, ctype, lossy=False):
    args = [TOOL, src, dst, ctype] + (["lossy"] if lossy else [])
    return subprocess.run(args, capture_output=True, text=True)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f") and \
        (a.dtype.kind != "f" or np.array_equal(np.signbit(a), np.signbit(b)))


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def round_trip(name, tensors, ctype, out_dtype, expected, metadata=None, reverse_header=False):
    src, dst = os.path.join(WORK, name + ".safetensors"), os.path.join(WORK, name + ".out.safetensors")
    write_st(src, tensors, metadata, reverse_header)
    r = run_tool(src, dst, ctype)
    check(r.returncode == 0, f"{name}: tool failed: {r.stderr}")
    if r.returncode != 0:
        return
    got, meta, raw = read_st(dst)
    check(list(got) == list(expected), f"{name}: names/order {list(got)} != {list(expected)}")
    for key, want in expected.items():
        dtype, array = got[key]
        check(dtype == out_dtype, f"{name}/{key}: dtype {dtype} != {out_dtype}")
        check(same(array, want), f"{name}/{key}: values differ:\n{array}\n!=\n{want}")
    check(meta == (metadata or {}), f"{name}: metadata {meta} != {metadata}")
    check(raw.startswith(b"{") and raw.rstrip(b" ").endswith(b"}"), f"{name}: header not a bare JSON object")


torch.manual_seed(0)
base = torch.randn(4, 5)
views = {"base": base, "row": base[1], "t": base.t(), "cols": base[:, 1:3], "scalar": torch.tensor(2.5),
         "empty": torch.zeros(0, 3)}
f32 = {k: ("F32", v.contiguous().numpy()) for k, v in views.items()}
round_trip("f32", f32, "float", "F32", {k: v.contiguous().numpy() for k, v in views.items()},
           metadata={"format": "pt", "caf\u00e9 \U0001F600": "quote \" backslash \\ newline \n tab \t"})

f64 = {k: ("F64", v.double().contiguous().numpy()) for k, v in views.items()}
round_trip("f64", f64, "double", "F64", {k: v.double().contiguous().numpy() for k, v in views.items()})

# F16 and BF16 edge values: subnormals, the largest finite, infinities, NaN, -0; expected values from torch.
half = torch.tensor([0.0, -0.0, 2.0 ** -24, 1023 * 2.0 ** -24, 2.0 ** -14, 65504.0, float("inf"), float("-inf"),
                     float("nan"), 0.1, -1.5], dtype=torch.float16)
bf = torch.tensor([1.0, -3.0, 2.0 ** -133, 2.0 ** -126, 3.3895313892515355e38, float("inf"), float("nan"), -0.0,
                   0.1], dtype=torch.bfloat16)
low = {"half": ("F16", half.numpy()), "bf16": ("BF16", bf.view(torch.int16).numpy().view(np.uint16))}
round_trip("f16_bf16", low, "float", "F32", {"half": half.float().numpy(), "bf16": bf.float().numpy()},
           reverse_header=True)

ints = {"i64": ("I64", np.array([[-(2 ** 40), 7], [2 ** 62, -1]], dtype=np.int64)),
        "i32": ("I32", np.array([-(2 ** 31), 2 ** 31 - 1, 0], dtype=np.int32)),
        "i16": ("I16", np.array([-300, 12], dtype=np.int16)), "u8": ("U8", np.array([200, 0], dtype=np.uint8)),
        "zero_d": ("I64", np.array(5, dtype=np.int64)), "none": ("I32", np.zeros((2, 0), dtype=np.int32))}
round_trip("ints", ints, "int64", "I64", {k: v[1].astype(np.int64) for k, v in ints.items()})
i32 = {k: v for k, v in ints.items() if k != "i64"}
round_trip("ints32", i32, "int32", "I32", {k: v[1].astype(np.int32) for k, v in i32.items()})

# Lossy: float64 0.1 into float is refused, then rounds to nearest with allow_lossy.
src, dst = os.path.join(WORK, "lossy.safetensors"), os.path.join(WORK, "lossy.out.safetensors")
write_st(src, {"d": ("F64", np.array([0.5, 0.1]))})
r = run_tool(src, dst, "float")
check(r.returncode == 2 and "element 1 = 0.1" in r.stderr and "allow_lossy" in r.stderr, f"lossy refused: {r.stderr}")
r = run_tool(src, dst, "float", lossy=True)
check(r.returncode == 0, f"lossy accepted: {r.stderr}")
if r.returncode == 0:
    got, _, _ = read_st(dst)
    check(same(got["d"][1], np.array([0.5, 0.1], dtype=np.float32)), "lossy values")

# A file whose data runs short is refused with a message naming the entry.
bad = os.path.join(WORK, "truncated.safetensors")
write_st(bad, {"w": ("F32", np.ones(4, dtype=np.float32))})
with open(bad, "r+b") as f:
    f.truncate(os.path.getsize(bad) - 4)
r = run_tool(bad, dst, "float")
check(r.returncode == 2 and "FormatError" in r.stderr and 'entry "w"' in r.stderr, f"truncated: {r.stderr}")

if failures:
    print(f"{len(failures)} failures")
    sys.exit(1)
print("safetensors interop: all checks passed")
