#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Regenerates every golden data file under tests/reference/data from PyTorch 1.13.1.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_golden.py [area ...]
(no arguments: every area; `make_golden.py ops` runs golden_ops.py only).
Each golden_<area>.py module beside this script defines generate(writer_for), where
writer_for(name) returns a GoldenWriter for data/<name>.txt. The test run itself never needs Python.
"""
import glob
import importlib.util
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from golden import GoldenWriter  # noqa: E402

if not torch.__version__.startswith("1.13"):
    print("warning: goldens are defined against PyTorch 1.13.1, this is %s" % torch.__version__, file=sys.stderr)

torch.set_num_threads(1)
writers = []


def writer_for(name):
    w = GoldenWriter(os.path.join(here, "data", name + ".txt"))
    writers.append(w)
    return w


areas = sys.argv[1:]
for path in sorted(glob.glob(os.path.join(here, "golden_*.py"))):
    if areas and os.path.basename(path)[len("golden_"):-3] not in areas:
        continue
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(writer_for)
for w in writers:
    w.save()
    print("wrote %s (%d records)" % (os.path.relpath(w.path, here), len(w.lines)))
