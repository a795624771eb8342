#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch interop for load_torch/save_torch, against the real torch (1.13).

Python saves state_dicts with torch.save; the C++ tool (io_torch_interop) loads them, prints every value
and writes them back with save_torch. This script checks the values exactly, that torch.load of
tapegrad's files returns an OrderedDict of equal, contiguous tensors with their own storages (and
byte-for-byte the pickle torch.save writes for it), that zipfile accepts them, that
model.load_state_dict(torch.load(p)) works and gives the same forward output, and that files tapegrad
cannot read (legacy format, deflated entries, a pickled model class) are refused with the right message.

Usage: torch_interop.py <io_torch_interop> <work dir>
Fails (does not skip) when torch is missing.
"""
import collections
import os
import shutil
import subprocess
import sys
import zipfile

import torch

TOOL, WORK = sys.argv[1], sys.argv[2]
failures = []
passed = 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        print("FAIL " + what)
        failures.append(what)


def path(name):
    return os.path.join(WORK, name)


def run(*args):
    return subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True)


def read_values(txt):
    out = collections.OrderedDict()
    with open(txt) as f:
        for line in f:
            name, shape, values = line.rstrip("\n").split("\t")
            shape = tuple(int(s) for s in shape.split(",")) if shape else ()
            out[name] = (shape, values.split() if values else [])
    return out


def check_values(label, txt, expected, convert):
    got = read_values(txt)
    check(list(got) == list(expected), f"{label}: keys {list(got)} == {list(expected)}")
    for name, t in expected.items():
        shape, values = got.get(name, ((), []))
        check(shape == tuple(t.shape), f"{label}: {name} shape {shape} == {tuple(t.shape)}")
        want = [convert(v) for v in t.detach().flatten().tolist()]
        have = [int(v) if isinstance(want[0] if want else 0, int) else float(v) for v in values]
        check(have == want, f"{label}: {name} values exact")


def check_resaved(label, resaved, expected, dtype):
    """torch.load of tapegrad's file: an OrderedDict of equal, contiguous tensors on their own storages."""
    check(zipfile.ZipFile(resaved).testzip() is None, f"{label}: zipfile testzip() is None")
    names = zipfile.ZipFile(resaved).namelist()
    stem = os.path.splitext(os.path.basename(resaved))[0]
    check(all(n.startswith(stem + "/") for n in names) and stem + "/version" in names,
          f"{label}: entries under the stem folder {stem}/ with a version: {names}")
    back = torch.load(resaved)
    check(type(back) is collections.OrderedDict, f"{label}: torch.load returns an OrderedDict ({type(back).__name__})")
    check(list(back) == list(expected), f"{label}: torch.load keys in order")
    ptrs = set()
    for name, t in expected.items():
        b = back[name]
        check(b.dtype == dtype and b.shape == t.shape and torch.equal(b, t.detach().to(dtype)),
              f"{label}: {name} equal ({b.dtype}, {tuple(b.shape)})")
        check(b.is_contiguous() and b.storage_offset() == 0, f"{label}: {name} contiguous at offset 0")
        check(b.storage().size() == b.numel(), f"{label}: {name} has its own storage of {b.numel()} elements")
        if b.numel():
            ptrs.add(b.data_ptr())
    check(len(ptrs) == sum(1 for t in expected.values() if t.numel()), f"{label}: no two tensors share a storage")
    # The pickle is what torch.save writes for the same dict.
    again_dir = path(label + "_again")
    os.makedirs(again_dir, exist_ok=True)
    again = os.path.join(again_dir, os.path.basename(resaved))
    torch.save(back, again)
    ours = zipfile.ZipFile(resaved).read(stem + "/data.pkl")
    theirs = zipfile.ZipFile(again).read(stem + "/data.pkl")
    check(ours == theirs, f"{label}: data.pkl byte for byte as torch.save writes it")
    for i in range(len(expected)):
        entry = f"{stem}/data/{i}"
        check(zipfile.ZipFile(resaved).read(entry) == zipfile.ZipFile(again).read(entry), f"{label}: {entry} equal")
    with open(resaved, "rb") as f:
        raw = f.read()
    for info in zipfile.ZipFile(resaved).infolist():
        start = info.header_offset + 30 + len(info.filename.encode()) + int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
        check(start % 64 == 0 and info.compress_type == zipfile.ZIP_STORED, f"{label}: {info.filename} stored, data at 64-byte boundary")
    return back


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(7, 4)
        self.lin = torch.nn.Linear(4, 3)

    def forward(self, idx):
        return self.lin(self.emb(idx))


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    torch.manual_seed(0)

    # (a) an nn.Embedding + nn.Linear model's state_dict.
    model = Model()
    torch.save(model.state_dict(), path("model.pt"))
    idx = [3, 0, 6, 3, 1]
    r = run("model", path("model.pt"), path("forward.txt"), path("model_back.pt"), *idx)
    check(r.returncode == 0, f"model: tool ran ({r.stderr.strip()})")
    with torch.no_grad():
        want = model(torch.tensor(idx)).flatten().tolist()
    with open(path("forward.txt")) as f:
        got = [float(v) for v in f.read().split()]
    check(len(got) == len(want) and all(abs(g - w) <= 1e-6 + 1e-6 * abs(w) for g, w in zip(got, want)),
          f"model: tapegrad's forward on the loaded weights matches PyTorch's ({got[:3]} vs {want[:3]})")
    sd = model.state_dict()
    r = run("values", path("model.pt"), "float", path("model.txt"), path("model_values.pt"))
    check(r.returncode == 0, f"model: values tool ran ({r.stderr.strip()})")
    check_values("model", path("model.txt"), sd, float)
    back = check_resaved("model_back", path("model_back.pt"), sd, torch.float32)
    fresh = Model()
    result = fresh.load_state_dict(torch.load(path("model_back.pt")))
    check(not result.missing_keys and not result.unexpected_keys, "model: load_state_dict(torch.load(p)) accepts every key")
    with torch.no_grad():
        check(torch.equal(fresh(torch.tensor(idx)), model(torch.tensor(idx))), "model: same forward output after the round trip")
    del back

    # (b) views sharing a storage, 0-d, empty, float64, int64, float16, bfloat16, an nn.Parameter.
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1
    cube = torch.randn(2, 3, 4)
    views = {
        "t": base.t(),
        "row": base[1],
        "narrow": base.narrow(1, 1, 2),
        "permuted": cube.permute(2, 0, 1),
        "scalar": torch.tensor(-2.75),
        "empty": torch.zeros(0, 3),
        "f64": torch.tensor([0.1, -1e300, 3.0], dtype=torch.float64),
        "i64": torch.tensor([1, -2 ** 40, 7]),
        "f16": torch.tensor([1.5, -6.103515625e-05, 65504.0, 5.960464477539063e-08], dtype=torch.float16),
        "bf16": torch.tensor([1.5, -3.3895313892515355e38, 9.183549615799121e-41], dtype=torch.bfloat16),
        "param": torch.nn.Parameter(torch.randn(2, 2)),
        "base_tail": base.view(-1)[7:],
    }
    torch.save(views, path("views.pt"))
    r = run("values", path("views.pt"), "double", path("views.txt"), path("views_back.pt"))
    check(r.returncode == 0, f"views: tool ran as double ({r.stderr.strip()})")
    check_values("views", path("views.txt"), views, float)
    check_resaved("views_back", path("views_back.pt"), views, torch.float64)
    r = run("values", path("views.pt"), "float", path("views_f.txt"), path("views_f.pt"))
    check(r.returncode == 2 and 'entry "f64" is F64 and cannot be loaded as F32: element 0 = 0.1' in r.stderr,
          f"views: as float, float64 0.1 is refused ({r.stderr.strip()})")

    # (c) int64 values beyond 2^53, and a transposed view, loaded as int64.
    ids = torch.tensor([[2 ** 62, -5], [3, -(2 ** 63)]])
    longs = collections.OrderedDict(ids=ids, col=ids.t(), small=torch.tensor([1, 2], dtype=torch.int32))
    torch.save(longs, path("longs.pt"))
    r = run("values", path("longs.pt"), "int64", path("longs.txt"), path("longs_back.pt"))
    check(r.returncode == 0, f"longs: tool ran as int64 ({r.stderr.strip()})")
    check_values("longs", path("longs.txt"), longs, int)
    check_resaved("longs_back", path("longs_back.pt"), longs, torch.int64)

    # (c2) 1001 entries: torch.save fills the dict in batches of 1000 and memo indices pass 255.
    many = collections.OrderedDict((f"layer{i}.w", torch.tensor([i * 0.25, -i])) for i in range(1001))
    torch.save(many, path("many.pt"))
    r = run("values", path("many.pt"), "float", path("many.txt"), path("many_back.pt"))
    check(r.returncode == 0, f"many: tool ran ({r.stderr.strip()})")
    check_values("many", path("many.txt"), many, float)
    check_resaved("many_back", path("many_back.pt"), many, torch.float32)

    # (d) the same file rewritten by Python's zipfile: other top folder, no alignment; then deflated.
    with zipfile.ZipFile(path("model.pt")) as src, zipfile.ZipFile(path("plain.pt"), "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("model/", "archive/", 1), src.read(info))
    check(torch.equal(torch.load(path("plain.pt"))["lin.bias"], sd["lin.bias"]), "plain: torch.load reads the rewritten file")
    r = run("values", path("plain.pt"), "float", path("plain.txt"), path("plain_back.pt"))
    check(r.returncode == 0, f"plain: top folder archive/, unaligned: loads ({r.stderr.strip()})")
    check_values("plain", path("plain.txt"), sd, float)
    with zipfile.ZipFile(path("model.pt")) as src, zipfile.ZipFile(path("deflated.pt"), "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    r = run("values", path("deflated.pt"), "float", path("x.txt"), path("x.pt"))
    check(r.returncode == 2 and 'entry "model/data.pkl" is compressed with deflate' in r.stderr,
          f"deflated: refused ({r.stderr.strip()})")

    # (e) files that are not a state_dict in the zip format.
    torch.save(model.state_dict(), path("legacy.pt"), _use_new_zipfile_serialization=False)
    r = run("values", path("legacy.pt"), "float", path("x.txt"), path("x.pt"))
    check(r.returncode == 2 and "legacy (pre-1.6, non-zip) format" in r.stderr, f"legacy: refused ({r.stderr.strip()})")
    torch.save(model, path("whole.pt"))
    r = run("values", path("whole.pt"), "float", path("x.txt"), path("x.pt"))
    check(r.returncode == 2 and 'GLOBAL "__main__ Model" is not allowed' in r.stderr,
          f"whole model: the pickled class is refused ({r.stderr.strip()})")
    check(not os.path.exists(path("x.pt")), "refused loads write nothing")

    if failures:
        print(f"{len(failures)} check(s) failed, {passed} passed")
        sys.exit(1)
    print(f"all {passed} checks passed")


main()
