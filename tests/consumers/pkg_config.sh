#!/usr/bin/env bash
# Builds and runs the consumer program with flags from the installed tapegrad.pc.
# Usage: pkg_config.sh <install prefix> <c++ compiler> <main.cpp> <output binary>
set -euo pipefail
export PKG_CONFIG_PATH="$1/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags tapegrad)
echo "pkg-config --cflags tapegrad: $flags"
"$2" -std=c++17 $flags "$3" -o "$4"
"$4"
