#!/usr/bin/env bash
# The main job on the embedded default store (no `bd` needed), in a throwaway project:
# the execute-plan command's gate sequence, then batch 1 of examples/sample-plan.md carried out through clavain-cli,
# up to the checkpoint that only the user can pass.
# Usage: bash examples/demo.sh [project-dir]   (default: a new temporary folder)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli="$here/../bin/clavain-cli"
project="${1:-$(mktemp -d "${TMPDIR:-/tmp}/clavain-demo.XXXXXX")}"
mkdir -p "$project" && cd "$project"
git init -q 2>/dev/null || true
cp "$here/sample-plan.md" plan.md
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "clavain-cli infer-bead plan.md"
bead=$("$cli" infer-bead plan.md); echo "$bead"
say "clavain-cli enforce-gate $bead executing plan.md"
"$cli" enforce-gate "$bead" executing plan.md && echo "gate passed"
say "clavain-cli advance-phase $bead executing 'Executing: plan.md' plan.md"
"$cli" advance-phase "$bead" executing "Executing: plan.md" plan.md
say "clavain-cli run start plan.md"
"$cli" run start plan.md | tail -n 3

# Task 1: the package skeleton.
"$cli" run task-start 1 >/dev/null
mkdir -p greet && printf 'def greet(name):\n    return ""\n' > greet/__init__.py
"$cli" run verify 1 | tail -n 1
echo "Created greet/__init__.py with an empty greet()." > out-1.md
say "clavain-cli run task-done 1 --output out-1.md"
"$cli" run task-done 1 --output out-1.md | tail -n 1

# Task 2: the greeting.
"$cli" run task-start 2 >/dev/null
mkdir -p tests && printf 'from greet import greet\n\n\ndef test_greet():\n    assert greet("Ada") == "Hello, Ada!"\n' > tests/test_greet.py
printf 'def greet(name):\n    return f"Hello, {name}!"\n' > greet/__init__.py
"$cli" run verify 2 | tail -n 1
echo "greet(name) returns 'Hello, <name>!'." | "$cli" run task-done 2 --output - | tail -n 1

say "clavain-cli run checkpoint"
"$cli" run checkpoint | tail -n 4
say "clavain-cli run approve    # refused: only a prompt from the user passes a checkpoint"
"$cli" run approve || echo "(exit $?)"
say "clavain-cli run status"
"$cli" run status
echo
echo "project: $project  (reports in $project/.clavain/execute-plan/runs/)"
