"""The plugin's own Python environment: where it lives, whether it is ready, building it, waiting for it.

Owns: ``envdir`` (the environment's folder and state), ``build`` (venv, pip with hashes, bytecode, marker),
``main`` (the entry points for the SessionStart hook, bin/clavain-cli and a user's terminal).
May import: the standard library only (no other part: it runs under whatever ``python3`` is on PATH).

Standard library only, and runnable by any ``python3`` (it runs before pydantic, PyYAML and Jinja2
exist). ``hooks/clavain-env`` (a SessionStart hook of its own) and ``bin/clavain-cli`` call it
only when the shell's quick check (``hooks/env.sh``) finds no ready environment.

    <data>/venv/                    the environment (a venv with requirements.lock installed)
    <data>/venv/clavain-ready       written last: the lock's id line, the bytecode tag, who built it
    <data>/build.lock               held (flock) by the process building; holds its pid and start time
    <data>/build.log                the last build's output
    <data>/build-failed             the last failure, one line (removed by a successful build)

``<data>`` is ``$CLAVAIN_PLUGIN_DATA`` (the hook exports it to the session's Bash calls), else
``$CLAUDE_PLUGIN_DATA`` (Claude Code's per-plugin folder, set for hooks), else
``${XDG_DATA_HOME:-~/.local/share}/clavain``.
"""
