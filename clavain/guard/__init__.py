"""The guard: Claude Code's hooks, the reading of Bash command lines, the places only this plugin writes.

Owns: ``hooks`` (PreToolUse, UserPromptSubmit, SessionStart), ``bashscan`` and ``bashwrites`` (what a
command line runs and writes), ``places`` (protected places).
May import: the standard library and the core, nothing else: a hook runs on every tool call of the user's
session, so its start-up must stay near a bare interpreter's.
"""
