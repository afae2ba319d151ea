# hooks/env.sh: which Python runs the plugin. Sourced (with $root set to the plugin folder) by
# bin/clavain-cli, hooks/clavain-hook and hooks/clavain-env, so all three find it the same way.
# POSIX sh, builtins only: no subshell, no process, on the path every command and hook takes.
#
# The environment lives in a per-user folder: $CLAVAIN_PLUGIN_DATA (what hooks/clavain-env exports to the
# session's Bash calls), else $CLAUDE_PLUGIN_DATA (set by Claude Code for hooks), else
# ${XDG_DATA_HOME:-~/.local/share}/clavain. See clavain/bootstrap/ for how it is built.
clavain_data="${CLAVAIN_PLUGIN_DATA:-${CLAUDE_PLUGIN_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/clavain}}"
clavain_venv="$clavain_data/venv"

# clavain_ready: true when the environment is complete and built for this plugin's requirements.lock
# (its marker, written last, starts with the lock's first line); sets $clavain_tag (the bytecode tag).
clavain_ready() {
  [ -x "$clavain_venv/bin/python" ] && [ -f "$clavain_venv/clavain-ready" ] && [ -f "$root/requirements.lock" ] ||
    return 1
  clavain_want='' clavain_have='' clavain_tag=''
  read -r clavain_want < "$root/requirements.lock"
  { read -r clavain_have; read -r clavain_tag; } < "$clavain_venv/clavain-ready"
  [ -n "$clavain_want" ] && [ "$clavain_want" = "$clavain_have" ]
}

# clavain_bootstrap COMMAND...: the standard-library part that builds or waits (clavain/bootstrap/main.py),
# run by python3 from PATH; it needs no third-party package.
clavain_bootstrap() {
  if ! command -v python3 > /dev/null 2>&1; then
    echo "clavain: no python3 on PATH; the plugin needs Python 3.10-3.13 (or set CLAVAIN_PYTHON)" >&2
    return 3
  fi
  python3 -S -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from clavain.bootstrap.main import main; sys.exit(main())' "$root" "$@"
}
