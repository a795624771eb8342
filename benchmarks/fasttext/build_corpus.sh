#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds a fastText `__label__` corpus from the apt package index of a Debian system: one line per
# binary package, labelled by its Section (without a contrib/ or non-free/ prefix), the text its
# short Description, lower-cased with . ! ? , ' / ( ) split off as the fastText tutorial does
# (sed -e "s/\([.\!?,'/()]\)/ \1 /g" | tr "[:upper:]" "[:lower:]"). Like the tutorial's
# cooking.stackexchange titles, these are short texts (about 8 words) in some 58 classes.
#
# Only the Packages indexes are read: long descriptions live in Translation-en files, which Docker's
# Debian images never download (Acquire::Languages "none"), so leaving them out keeps the corpus the
# same on every Debian 12 after `apt-get update`. It is deterministic for a given index: packages are
# deduplicated by name (first occurrence, index files in byte order of their names), split 90/10 into
# train/test by a hash of the package name, and ordered by another hash of it (fastText trains in
# file order, and the index is sorted by name, which would put all lib* packages in a row).
#
# Usage: build_corpus.sh OUT_DIR [MAX_PACKAGES]
#   writes OUT_DIR/train.txt and OUT_DIR/test.txt; MAX_PACKAGES (optional) keeps only the first
#   packages of the hashed order, for a small smoke-test corpus.
#   APT_LISTS (default /var/lib/apt/lists) is where the *_Packages* indexes are.
set -eu
out_dir=${1:?usage: build_corpus.sh OUT_DIR [MAX_PACKAGES]}
max_packages=${2:-0}
lists=${APT_LISTS:-/var/lib/apt/lists}
export LC_ALL=C

indexes=$(ls "$lists" | grep '_Packages' | grep -v '\.diff' | sort || true)
if [ -z "$indexes" ]; then
  echo "build_corpus.sh: no *_Packages index in $lists (run apt-get update first)" >&2
  exit 1
fi
mkdir -p "$out_dir"
tmp="$out_dir/.corpus.$$"
trap 'rm -f "$tmp"' EXIT

for f in $indexes; do
  # apt-helper decompresses whatever apt stored (.lz4, .gz, .xz or plain).
  /usr/lib/apt/apt-helper cat-file "$lists/$f"
  echo
done | awk -v max="$max_packages" '
  BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
  # Polynomial string hash mod 2^31 - 1 (exact in double arithmetic: below 2^53 at every step).
  function hash(s, base,   h, i) {
    h = 0
    for (i = 1; i <= length(s); i++) h = (h * base + ord[substr(s, i, 1)]) % 2147483647
    return h
  }
  function flush(   text, key) {
    if (name != "" && section != "" && descr != "" && !(name in seen)) {
      seen[name] = 1
      sub(/^.*\//, "", section)
      text = tolower(descr)
      gsub(/[.!?,\047\/()]/, " & ", text)
      gsub(/[ \t]+/, " ", text)
      sub(/^ /, "", text)
      sub(/ $/, "", text)
      print hash(name, 131) "\t" name "\t" (hash(name, 257) % 10 == 0 ? "test" : "train") "\t__label__" section " " text
    }
    name = section = descr = ""
  }
  /^$/ { flush(); next }
  /^Package: / { name = substr($0, 10) }
  /^Section: / { section = substr($0, 10) }
  /^Description: / { descr = substr($0, 14) }
  END { flush() }
' | sort -t "$(printf '\t')" -k1,1n -k2,2 > "$tmp"

if [ "$max_packages" -gt 0 ]; then
  head -n "$max_packages" "$tmp" > "$tmp.head" && mv "$tmp.head" "$tmp"
fi
awk -F '\t' '$3 == "train" { print $4 }' "$tmp" > "$out_dir/train.txt"
awk -F '\t' '$3 == "test" { print $4 }' "$tmp" > "$out_dir/test.txt"
echo "build_corpus.sh: $(wc -l < "$out_dir/train.txt") train and $(wc -l < "$out_dir/test.txt") test lines in $out_dir" >&2
