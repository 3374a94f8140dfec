#!/usr/bin/env bash
# Replays every committed seed corpus once (`-runs=0`: no mutation, no time box) and fails if
# any input crashes a target. CI-friendly: deterministic, a few seconds once built.
#
#   bash fuzz/replay_corpus.sh            # every target with a corpus
#   bash fuzz/replay_corpus.sh plan       # one target
#
# Needs cargo-fuzz 0.13.2 (`cargo install cargo-fuzz --version 0.13.2`). `-s none`: no
# sanitizer, so it builds on stable (a bare `cargo fuzz run` passes a nightly-only flag).
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --version 0.13.2" >&2
    exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for dir in corpus/*/; do
        targets+=("$(basename "$dir")")
    done
fi
for target in "${targets[@]}"; do
    files=$(find "corpus/$target" -type f | wc -l)
    echo "== $target: replaying $files corpus file(s)"
    cargo fuzz run -s none "$target" "corpus/$target" -- -runs=0
done
echo "replayed the corpus of ${#targets[@]} target(s): no crash"
