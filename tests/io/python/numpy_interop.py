# SPDX-License-Identifier: MIT
"""NumPy interop for tapegrad's .npy/.npz reader and writer.

Real NumPy writes files with np.save / np.savez / np.savez_compressed; the C++ tool (io_npy_interop)
loads each one and saves it again with save_npy / save_npz; np.load then checks that values, dtypes
and shapes are exactly what NumPy wrote, and that files tapegrad writes for natively typed arrays are
byte for byte what np.save writes. Fails (does not skip) if NumPy is missing.

usage: numpy_interop.py <path to io_npy_interop>
"""
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np  # noqa: E402  (an ImportError fails the test, as it should)

TOOL = sys.argv[1]
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run_tool(kind, ctype, src, dst, lossy=False):
    args = [TOOL, kind, ctype, src, dst] + (["lossy"] if lossy else [])
    return subprocess.run(args, capture_output=True, text=True)


def exactly_equal(a, b):
    """Same dtype, shape and bits (NaN payloads and -0.0 included)."""
    return (a.dtype == b.dtype and a.shape == b.shape and
            a.tobytes(order="C") == b.tobytes(order="C"))


TYPES = {"f32": np.float32, "f64": np.float64, "i64": np.int64, "i32": np.int32}
rng = np.random.default_rng(9)
specials = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-40, 3.4e38, 1.0, -2.5], dtype=np.float32)

# name, array NumPy saves, type the tool loads it as, whether tapegrad's output must equal NumPy's bytes
NPY_CASES = [
    ("f4_2x3", rng.standard_normal((2, 3)).astype(np.float32), "f32", True),
    ("f4_specials", specials, "f32", True),
    ("f8_4", rng.standard_normal(4), "f64", True),
    ("i8_5", np.array([0, -1, 2**62, -2**63, 2**63 - 1], dtype=np.int64), "i64", True),
    ("i4_2x2", np.array([[1, -2], [2**31 - 1, -2**31]], dtype=np.int32), "i32", True),
    ("f2_as_f32", (np.arange(-6, 6, dtype=np.float16) / np.float16(3)), "f32", False),
    ("f2_specials", np.array([np.inf, -np.inf, 6e-8, 65504, -0.0], dtype=np.float16), "f64", False),
    ("bool_as_i32", np.array([[True, False, True], [False, False, True]]), "i32", False),
    ("bool_as_f32", np.array([True, False]), "f32", False),
    ("i1_as_i32", np.array([-128, 0, 127], dtype=np.int8), "i32", False),
    ("i2_as_i64", np.array([-32768, 5, 32767], dtype=np.int16), "i64", False),
    ("u1_as_f32", np.array([0, 200, 255], dtype=np.uint8), "f32", False),
    ("i4_as_f64", np.array([7, -9], dtype=np.int32), "f64", False),
    ("big_endian_f8", rng.standard_normal((3, 2)).astype(">f8"), "f64", False),
    ("big_endian_i4", np.array([1, -2, 70000], dtype=">i4"), "i32", False),
    ("fortran_f4", np.asfortranarray(rng.standard_normal((3, 4)).astype(np.float32)), "f32", False),
    ("fortran_3d_i8", np.asfortranarray(np.arange(24, dtype=np.int64).reshape(2, 3, 4)), "i64", False),
    ("fortran_big_endian", np.asfortranarray(np.arange(6, dtype=">f4").reshape(2, 3)), "f32", False),
    ("zero_d_f8", np.array(3.25), "f64", True),
    ("zero_d_i4", np.array(-7, dtype=np.int32), "i32", True),
    ("empty_0x3", np.zeros((0, 3), dtype=np.float32), "f32", True),
    ("empty_4x0x2", np.zeros((4, 0, 2), dtype=np.int64), "i64", True),
    ("three_d_f4", rng.standard_normal((2, 3, 4)).astype(np.float32), "f32", True),
    ("long_first_dim", np.arange(12345, dtype=np.float64), "f64", True),
]

with tempfile.TemporaryDirectory() as tmp:
    for name, array, ctype, same_bytes in NPY_CASES:
        src = os.path.join(tmp, name + ".npy")
        dst = os.path.join(tmp, name + ".out.npy")
        np.save(src, array)
        r = run_tool("npy", ctype, src, dst)
        check(r.returncode == 0, f"{name}: tool failed ({r.returncode}): {r.stderr.strip()}")
        if r.returncode != 0:
            continue
        check(r.stdout.strip() == "[" + ", ".join(str(d) for d in array.shape) + "]",
              f"{name}: tool printed shape {r.stdout.strip()} for {array.shape}")
        back = np.load(dst, allow_pickle=False)
        expected = array.astype(TYPES[ctype])
        check(exactly_equal(back, expected), f"{name}: np.load of tapegrad's file differs:\n{back!r}\nvs\n{expected!r}")
        check(back.dtype.byteorder in ("<", "=", "|"), f"{name}: byte order {back.dtype.byteorder}")
        if same_bytes:
            with open(src, "rb") as f1, open(dst, "rb") as f2:
                check(f1.read() == f2.read(), f"{name}: tapegrad's bytes differ from np.save's")

    # Lossy conversions: refused (ValueError, exit 3), then accepted with allow_lossy.
    src = os.path.join(tmp, "lossy.npy")
    dst = os.path.join(tmp, "lossy.out.npy")
    lossy = np.array([0.1, 1.0 / 3.0, 2.0], dtype=np.float64)
    np.save(src, lossy)
    r = run_tool("npy", "f32", src, dst)
    check(r.returncode == 3 and "cannot be loaded as F32" in r.stderr and "allow_lossy" in r.stderr,
          f"lossy f8 -> f32 not refused as expected: {r.returncode} {r.stderr.strip()}")
    r = run_tool("npy", "f32", src, dst, lossy=True)
    check(r.returncode == 0 and exactly_equal(np.load(dst), lossy.astype(np.float32)),
          f"lossy f8 -> f32 with allow_lossy: {r.returncode} {r.stderr.strip()}")
    frac = np.array([1.5, -2.0], dtype=np.float32)
    np.save(src, frac)
    r = run_tool("npy", "i32", src, dst)
    check(r.returncode == 3 and "not an integer" in r.stderr, f"f4 1.5 -> i32 not refused: {r.stderr.strip()}")
    r = run_tool("npy", "i32", src, dst, lossy=True)
    check(r.returncode == 0 and exactly_equal(np.load(dst), np.array([1, -2], dtype=np.int32)),
          f"f4 -> i32 with allow_lossy: {r.stderr.strip()}")

    # Files NumPy writes that tapegrad refuses, with a FormatError (exit 2) that says why.
    for name, array, needle in [
        ("object", np.array([1, "a", None], dtype=object), "pickle"),
        ("unicode", np.array(["ab", "c"]), "unicode string"),
        ("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "structured dtype"),
        ("complex", np.zeros(2, dtype=np.complex64), "complex"),
    ]:
        src = os.path.join(tmp, name + ".npy")
        np.save(src, array, allow_pickle=True)
        r = run_tool("npy", "f32", src, dst)
        check(r.returncode == 2 and needle in r.stderr and src in r.stderr,
              f"{name}: expected a FormatError containing {needle!r}: {r.returncode} {r.stderr.strip()}")

    # np.savez: names and order kept, values exact; tapegrad's archive is a valid zip NumPy reads.
    arrays = {
        "weight": rng.standard_normal((3, 4)).astype(np.float32),
        "bias": rng.standard_normal(4).astype(np.float32),
        "scale": np.array(2.0, dtype=np.float32),
        "fortran": np.asfortranarray(rng.standard_normal((2, 5)).astype(np.float32)),
        "empty": np.zeros((0,), dtype=np.float32),
        "half": np.arange(3, dtype=np.float16),
        "layer.0/w": np.ones((2, 2), dtype=">f4"),
    }
    src = os.path.join(tmp, "model.npz")
    dst = os.path.join(tmp, "model.out.npz")
    np.savez(src, **arrays)
    r = run_tool("npz", "f32", src, dst)
    check(r.returncode == 0, f"npz: tool failed ({r.returncode}): {r.stderr.strip()}")
    if r.returncode == 0:
        names = [line.split(" ")[0] for line in r.stdout.strip().splitlines()]
        check(names == list(arrays), f"npz: names {names} != {list(arrays)}")
        with zipfile.ZipFile(dst) as z:
            check(z.testzip() is None, "npz: tapegrad's archive has a bad CRC")
            check([i.filename for i in z.infolist()] == [k + ".npy" for k in arrays], "npz: entry names")
            check(all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()), "npz: entries not stored")
        with np.load(dst, allow_pickle=False) as back:
            check(list(back.keys()) == list(arrays), f"npz: np.load keys {list(back.keys())}")
            for k, a in arrays.items():
                check(exactly_equal(back[k], a.astype(np.float32)), f"npz: entry {k} differs")

    # Positional arrays (arr_0, arr_1) loaded as int64.
    src = os.path.join(tmp, "positional.npz")
    np.savez(src, np.arange(5), np.array([[1, 2]], dtype=np.int32))
    r = run_tool("npz", "i64", src, dst)
    check(r.returncode == 0 and r.stdout.split() == ["arr_0", "[5]", "arr_1", "[1,", "2]"],
          f"positional npz: {r.returncode} {r.stdout!r} {r.stderr.strip()}")
    if r.returncode == 0:
        with np.load(dst) as back:
            check(exactly_equal(back["arr_0"], np.arange(5, dtype=np.int64)), "positional npz: arr_0")
            check(exactly_equal(back["arr_1"], np.array([[1, 2]], dtype=np.int64)), "positional npz: arr_1")

    # An empty archive.
    src = os.path.join(tmp, "nothing.npz")
    np.savez(src)
    r = run_tool("npz", "f64", src, dst)
    check(r.returncode == 0 and r.stdout == "", f"empty npz: {r.returncode} {r.stderr.strip()}")
    if r.returncode == 0:
        with np.load(dst) as back:
            check(list(back.keys()) == [], "empty npz: keys")

    # np.savez_compressed: a FormatError that says the entry is deflated and how to re-save.
    src = os.path.join(tmp, "compressed.npz")
    np.savez_compressed(src, w=np.ones(100, dtype=np.float32))
    r = run_tool("npz", "f32", src, dst)
    check(r.returncode == 2 and 'entry "w.npy" is compressed (deflate)' in r.stderr
          and "np.savez instead of np.savez_compressed" in r.stderr and src in r.stderr,
          f"savez_compressed: expected the compression FormatError: {r.returncode} {r.stderr.strip()}")

print(f"{checks} checks, {len(failures)} failures")
sys.exit(1 if failures else 0)
