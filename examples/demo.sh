#!/usr/bin/env bash
# The whole job, start to finish, in a throwaway project: examples/sample-plan.md carried out through
# clavain-cli exactly as /clavain:execute-plan and the skill clavain:executing-plans have the model do it.
# This script plays two parts: the model (it runs the commands and writes the files) and you (your replies
# to the batch reports). The plugin's answers are its own, printed in full.
#
# Usage: bash examples/demo.sh [project-dir]   (default: a new temporary folder; a given one must be new or empty)
# Colour (bold headings, dim notes) only when stdout is a terminal and NO_COLOR is unset or empty.
# Exit 0 when every step behaves as shown; non-zero when one does not, including a refusal that does not happen.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
plugin="$(cd "$here/.." && pwd)"
cli="$plugin/bin/clavain-cli"
hook="$plugin/hooks/clavain-hook"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'
else
  bold='' dim='' off=''
fi

fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

command -v git > /dev/null || fail "git is needed (the project is a git repository, where the plugin measures what each task changed)"
if [ -n "${1:-}" ]; then
  project="$1"
  if [ -d "$project" ] && [ -n "$(ls -A "$project")" ]; then
    printf 'demo: %s is not empty; the demo needs a new or empty folder\nnext: bash %s\n' "$project" "$0" >&2
    exit 2
  fi
  mkdir -p "$project"
  project="$(cd "$project" && pwd)"
else
  project="$(mktemp -d "${TMPDIR:-/tmp}/clavain-demo.XXXXXX")"
fi
cd "$project"
# A terminal session, even when started from Claude Code's Bash tool (where CLAUDECODE=1 has the plugin read
# replies only from Claude Code's own transcript, and this demo's replies are not in it).
unset CLAUDECODE
trap 'code=$?; [ "$code" -eq 0 ] || printf "demo: stopped (exit %s): a step did not behave as this demo shows\n" "$code" >&2' EXIT

# ---------------------------------------------------------------- how each step is shown

step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$off"; }

# The command line as typed: arguments with spaces or quotes in single quotes.
shown() {
  local line='' arg sq="'" escaped="'\\''"
  for arg in "$@"; do
    case "$arg" in
      '' | *[!A-Za-z0-9_./:=@%+,-]*) arg="'${arg//$sq/$escaped}'" ;;
    esac
    line+=" $arg"
  done
  printf '%s$%s%s\n' "$dim" "$off" "$line"
}

# clavain-cli ARGS...: shown, run, its whole output (stdout and stderr, in order) printed; a failure stops the demo.
clavain() {
  shown clavain-cli "$@"
  "$cli" "$@" 2>&1
}

# refused ARGS...: a clavain-cli call the plugin must refuse (exit 1); anything else stops the demo.
refused() {
  local code=0
  shown clavain-cli "$@"
  "$cli" "$@" 2>&1 || code=$?
  [ "$code" -eq 1 ] || fail "clavain-cli $* was expected to be refused (exit 1), and exited $code"
  note "(exit 1: refused)"
}

# model_writes FILE < TEXT: the model writes FILE; its content is shown.
model_writes() {
  mkdir -p "$(dirname "$1")"
  cat > "$1"
  note "the model writes $1:"
  sed 's/^./    &/' "$1"
}

# json_text TEXT: TEXT as the inside of a JSON string (backslashes and double quotes escaped).
json_text() { printf '%s' "$1" | sed 's/[\\"]/\\&/g'; }

# you_reply TEXT: your reply to a report, handed to the plugin's UserPromptSubmit hook as Claude Code hands it over.
you_reply() {
  note "in Claude Code, this is you typing your reply:"
  printf '    > %s\n' "$1"
  printf '{"session_id":"clavain-demo","cwd":"%s","hook_event_name":"UserPromptSubmit","prompt":"%s"}' \
    "$(json_text "$project")" "$(json_text "$1")" | "$hook" user-prompt-submit
  note "(recorded by the plugin's UserPromptSubmit hook; .clavain/config.yaml lets that record count here)"
}

# with_report STEP READ ARGS...: the step STEP, clavain-cli ARGS...; then the step READ: the report its output
# names ("report: PATH"), printed whole.
with_report() {
  local out path
  step "$1"
  out="$(clavain "${@:3}")"
  printf '%s\n' "$out"
  path="$(printf '%s\n' "$out" | sed -n 's/.*report: \([^ ]*\)$/\1/p')"
  [ -n "$path" ] && [ -f "$path" ] || fail "no report file named in: $out"
  step "$2"
  note "$path:"
  cat "$path"
}

# ---------------------------------------------------------------- the story

printf '%sclavain execute-plan: a plan carried out in batches, each batch passed only by you%s\n' "$bold" "$off"
note "project: $project (a throwaway git repository)"
note "This script plays the model (it runs clavain-cli and writes the files) and you (your replies)."

step "You: a throwaway project with a plan to carry out"
git init -q
printf '__pycache__/\n' > .gitignore
cp "$here/sample-plan.md" plan.md
mkdir -p .clavain
printf 'approval: {evidence: prompt-record}\n' > .clavain/config.yaml
note "plan.md: 4 tasks, a checkpoint after task 2 (examples/sample-plan.md); .gitignore: __pycache__/; .clavain/config.yaml:"
sed 's/^/    /' .clavain/config.yaml
note "(outside Claude Code there is no transcript to read your replies from: this opt-in lets the plugin's own"
note " record of your prompts count instead, and only exact replies such as 'approve batch 1')"

step "The plugin's gate, step by step: which bead is this plan for?"
note "(a bead is the plan's issue in the beads tracker, here named by the plan's **Bead:** line; without bd the"
note " plugin keeps phases in its own SQLite store. In Claude Code, the model's first command, clavain-cli run open"
note " plan.md below, runs these three steps itself)"
shown clavain-cli infer-bead plan.md
bead="$("$cli" infer-bead plan.md)"
printf '%s\n' "$bead"

step "The plugin's gate: may the plan enter the executing phase?"
clavain enforce-gate "$bead" executing plan.md
note "(exit 0: the gate passes)"

step "The plugin's gate: the plan enters the executing phase (recorded in the store and as a Phase line in plan.md)"
clavain advance-phase "$bead" executing "Executing: plan.md" plan.md

step "The model opens the run, as /clavain:execute-plan plan.md has it do first; the plugin prints batch 1's brief"
clavain run open plan.md

step "The model starts task 1"
clavain run task-start 1

step "The model does task 1: the package skeleton"
model_writes greet/__init__.py << 'EOF'
def greet(name):
    return ""
EOF

step "The model has the plugin run task 1's <verify> entry"
clavain run verify 1

step "The model records task 1 done, with its output file"
model_writes out/task-1.md << 'EOF'
Task 1: created greet/__init__.py with a greet(name) stub that returns "".
EOF
clavain run task-done 1 --output out/task-1.md

step "The model starts task 2"
clavain run task-start 2

step "The model does task 2: the greeting, but forgets the test the task declares"
model_writes greet/__init__.py << 'EOF'
def greet(name):
    return f"Hello, {name}!"
EOF

step "The model has the plugin run task 2's <verify> entry: it passes, the test is still missing"
clavain run verify 2

step "The model tries to record task 2 done; the plugin refuses: tests/test_greet.py is untouched"
model_writes out/task-2.md << 'EOF'
Task 2: greet(name) returns "Hello, <name>!".
EOF
refused run task-done 2 --output out/task-2.md

step "The model writes the test it forgot, and runs it"
model_writes tests/test_greet.py << 'EOF'
import unittest

from greet import greet


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self):
        self.assertEqual(greet("Ada"), "Hello, Ada!")


if __name__ == "__main__":
    unittest.main()
EOF
shown python3 -m unittest tests.test_greet
python3 -m unittest tests.test_greet 2>&1

step "The model records task 2 done; now the plugin accepts it"
model_writes out/task-2.md << 'EOF'
Task 2: greet(name) returns "Hello, <name>!"; tests/test_greet.py checks it (python3 -m unittest tests.test_greet: OK).
EOF
clavain run task-done 2 --output out/task-2.md

with_report "The model closes batch 1; the plugin writes the batch report, and the run waits for you" \
  "You read the batch report (the model shows it to you and ends its turn)" run checkpoint

step "The model tries to approve batch 1 on its own; the plugin refuses"
refused run approve

step "You reply to the report: approve batch 1"
you_reply "approve batch 1"

step "The model approves batch 1, now that you replied; the plugin prints batch 2's brief"
clavain run approve

step "The model starts task 3"
clavain run task-start 3

step "The model does task 3: the command-line entry point"
model_writes greet/__main__.py << 'EOF'
import sys

from greet import greet

print(greet(sys.argv[1]))
EOF

step "The model has the plugin run task 3's <verify> entry"
clavain run verify 3

step "The model records task 3 done"
model_writes out/task-3.md << 'EOF'
Task 3: greet/__main__.py prints greet(sys.argv[1]); python3 -m greet Ada prints "Hello, Ada!".
EOF
clavain run task-done 3 --output out/task-3.md

step "The model starts task 4"
clavain run task-start 4

step "The model does task 4: the README (no <verify> entry here), and records it done"
model_writes README.md << 'EOF'
# greet

Greets someone by name:

    python3 -m greet Ada    # prints: Hello, Ada!
EOF
model_writes out/task-4.md << 'EOF'
Task 4: README.md says what the package does and how to run it.
EOF
clavain run task-done 4 --output out/task-4.md

with_report "The model closes batch 2; the plugin writes its report, and the run waits for you" \
  "You read the batch 2 report" run checkpoint

step "You reply to the report: approve batch 2"
you_reply "approve batch 2"

step "The model approves batch 2, now that you replied"
clavain run approve

step "The model has the plugin check the plan's Must-Haves against the files"
clavain run must-haves

with_report "The model finishes the run; the plugin writes the final report" "You read the final report" run finish

step "The plugin keeps every report of the run in one folder"
for run in .clavain/execute-plan/runs/*/; do
  run="${run%/}"
  printf '%s/batches/\n' "$project/$run"
  ls "$run/batches" | sed 's/^/    /'
  note "(beside them in $project/$run/: the journal, the task outputs and the verify logs)"
done

step "You, next: the same in Claude Code"
cat << EOF
Install the plugin from this repository as a marketplace (the README's "Use it in Claude Code"):
    claude plugin marketplace add $plugin
    claude plugin install clavain@clavain
then start claude in your project and type:
    /clavain:execute-plan plan.md
EOF
