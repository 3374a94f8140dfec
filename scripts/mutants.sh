#!/usr/bin/env bash
# Mutation score of the conformance laws: cargo-mutants mutates the reference registry's
# contract logic (the Model, the engine, MemoryRegistry) and, for each mutant, runs the law
# catalogue on MemoryRegistry and on FileRegistry (crates/conformance/tests/{memory,file}.rs;
# the file run adds the durability laws, which see what the Model hands its journal). A mutant
# the laws do not reject is a behaviour of the reference no law pins down, or an equivalent
# mutant.
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
#   file/, storage/      FileRegistry's log and its Storage (~250 more mutants, about an hour
#                        more on 2 cores): the reference crate's own file tests target them.
#   checker accessors    Model::{process_ids, events, is_pending_wake, current_lease,
#                        highest_fencing_token} and Engine::model_snapshot: read-only views for
#                        checkers and tests that no ProcessRegistry method calls, so no law can
#                        observe a mutant of them (they survive every run; see docs/MUTANTS.md).
#   op.rs, execute.rs    an Op's name (error messages only) and execute_op (the simulator's
#                        entry point): MemoryRegistry does not go through them.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-target/mutants-out}"
shift || true
mkdir -p "$OUT"

# cargo-mutants runs its baseline in the mutated package (procreg-reference), which has no
# `file` test target: check the unmutated law suites here instead and skip its baseline.
cargo test --package procreg-conformance --test memory --test file

exec cargo mutants \
    --package procreg-reference \
    --test-package procreg-conformance \
    --file 'crates/reference/src/model/**' \
    --file 'crates/reference/src/engine/**' \
    --file 'crates/reference/src/memory.rs' \
    --file 'crates/reference/src/journal.rs' \
    --exclude 'crates/reference/src/model/invariants.rs' \
    --exclude 'crates/reference/src/model/tests.rs' \
    --exclude-re 'Model::(process_ids|events|is_pending_wake|current_lease|highest_fencing_token) ' \
    --exclude-re 'Engine<J>::model_snapshot ' \
    --jobs 1 \
    --baseline skip \
    --timeout 180 \
    --build-timeout 900 \
    --cargo-test-arg=--test=memory \
    --cargo-test-arg=--test=file \
    --output "$OUT" \
    "$@"
