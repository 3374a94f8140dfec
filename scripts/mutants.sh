#!/usr/bin/env bash
# Mutation score of the conformance laws: cargo-mutants mutates the reference registry's
# contract logic (the Model, the engine, MemoryRegistry) and, for each mutant, runs the law
# catalogue on MemoryRegistry (crates/conformance/tests/memory.rs). A mutant the laws do not
# reject is a behaviour of the reference no law pins down (or an equivalent mutant).
# See docs/MUTANTS.md for the last score and the survivors.
#
# Usage: scripts/mutants.sh [OUT_DIR] [extra cargo-mutants args...]
#   OUT_DIR defaults to target/mutants-out; mutants.out/ (outcomes.json, missed.txt,
#   caught.txt, timeout.txt, unviable.txt) is written there.
#   Examples: scripts/mutants.sh /tmp/m -f 'crates/reference/src/model/leases.rs'
#             scripts/mutants.sh /tmp/m --iterate      # only what was not caught last time
#
# Excluded, with the reason:
#   model/invariants.rs  the Model's self-check, called only by tests and checkers: no
#                        registry call runs it, so no law can observe it.
#   file/, storage/      FileRegistry and its Storage: the laws on MemoryRegistry never run
#                        them (their own tests and the durable laws on FileRegistry do).
#   op.rs, execute.rs    an Op's name (error messages only) and execute_op (the simulator's
#                        entry point): MemoryRegistry does not go through them.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-target/mutants-out}"
shift || true
mkdir -p "$OUT"

exec cargo mutants \
    --package procreg-reference \
    --test-package procreg-conformance \
    --file 'crates/reference/src/model/**' \
    --file 'crates/reference/src/engine/**' \
    --file 'crates/reference/src/memory.rs' \
    --file 'crates/reference/src/journal.rs' \
    --exclude 'crates/reference/src/model/invariants.rs' \
    --exclude 'crates/reference/src/model/tests.rs' \
    --jobs 1 \
    --minimum-test-timeout 60 \
    --cargo-test-arg=--test=memory \
    --output "$OUT" \
    "$@"
