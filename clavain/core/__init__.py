"""The small shared core: errors, where things live, durable file writes, digests.

Owns: ``errors`` (the one exception hierarchy), ``paths`` (the project's state folder), ``layout`` (which
files in the shared ``.clavain/`` are this plugin's, and moving 0.1's state into ``.clavain/execute-plan/``),
``files`` (atomic writes, appended lines), ``digest`` (sha256, the plan digest), ``claudesettings`` (Claude
Code's settings files: which apply, and a careful merge into one), ``sandbox`` (the protection level, what the
Bash sandbox needs, what it must never open), ``projecttools`` (the package tools a project uses: caches,
registries), ``model`` (plain data models), ``parts`` (a long list of models kept in content-addressed parts).
May import: the standard library only. Every other part may import it; it imports none of them.
"""
