"""`clavain-cli setup sandbox [--caches] [--registries] [--allow-write DIR]... [--dry-run]`: write the
project's ``.claude/settings.local.json`` so that the next Claude Code session started in the project runs
its Bash commands in Claude Code's sandbox, with the Edit and Write tools kept off what this plugin owns.

It merges into the file (the user's keys stay, in their order; lists gain only what they lack). It writes
nothing when the file is not a JSON object, when the sandbox cannot run on this machine (the next session
would refuse to start), or when the file already holds everything (a second run changes nothing).
"""

from __future__ import annotations

import sys

CHANGES = """\
What the sandbox changes for ordinary work:
- Bash commands, and everything they start, write only inside the project and the sandbox's temp dir
  ($TMPDIR). Your home folder and /tmp are read-only: a write there fails with "Read-only file system".
- Sandboxed commands cannot reach 127.0.0.1 or localhost, so a local database or dev server is out of
  reach ("Connection refused"); run such a step yourself, outside Claude Code.
- Other hosts are reached through Claude Code's proxy, for the domains in sandbox.network.allowedDomains
  and those you approve when asked; a session that cannot ask refuses the rest ("tunnel ... 403").
- Reads are not limited.
- The Edit and Write tools need your yes to change {owned}: only clavain-cli writes
  them, through Bash."""


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
    setup = sub.add_parser("setup", help="set the project up: `setup sandbox` turns on Claude Code's Bash sandbox")
    setup.set_defaults(handler=_no_verb)
    verbs = setup.add_subparsers(dest="setup_command", metavar="VERB", parser_class=type(setup))
    sandbox = verbs.add_parser("sandbox", help="write .claude/settings.local.json so the next session is sandboxed")
    sandbox.add_argument("--caches", action="store_true",
                         help="let sandboxed commands write the caches of the project's tools (listed without it)")
    sandbox.add_argument("--registries", action="store_true",
                         help="let sandboxed commands reach the registries of the project's tools (listed without it)")
    sandbox.add_argument("--allow-write", action="append", default=[], metavar="DIR",
                         help="let sandboxed commands write DIR too (repeatable)")
    sandbox.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    sandbox.set_defaults(handler=sandbox_cmd)


def _no_verb(args, ctx) -> int:
    from clavain.core.errors import BadInput

    raise BadInput("clavain-cli setup: name a verb: sandbox", next_command="clavain-cli setup sandbox")


def _folder(value: str, ctx):
    """``DIR`` as given on the command line: ``~`` is the home folder, a relative path starts at the cwd."""
    import os
    from pathlib import Path

    from clavain.core.claudesettings import home

    if value == "~" or value.startswith("~/"):
        return Path(os.path.normpath(home(ctx.env) / value[2:]))
    return Path(os.path.normpath(ctx.resolve(value)))


def sandbox_cmd(args, ctx) -> int:
    from clavain.core import projecttools, sandbox
    from clavain.core.claudesettings import LOCAL_FILE, dump, load_for_edit, merge
    from clavain.core.errors import BadInput, EnvironmentProblem
    from clavain.core.files import atomic_write
    from clavain.core.sandbox import SETUP

    project, env, system = ctx.project, ctx.env, sys.platform
    problem = sandbox.runtime_problem(env, system)
    if problem:
        raise EnvironmentProblem(f"Claude Code's sandbox cannot run on this machine: {problem[0]}; nothing was "
                                 "written (the next session would refuse to start)",
                                 next_command=f"{problem[1]}, then clavain-cli setup sandbox")
    path = project / LOCAL_FILE
    current, text = load_for_edit(path, rerun=SETUP)

    plugin = sandbox.plugin_root(env)
    tools = projecttools.detect(project, env, system)
    caches = [p for tool in tools for p in tool.caches]
    kept_out = {p: sandbox.protected_overlap(p, env, plugin) for p in caches}
    kept_out = {p: what for p, what in kept_out.items() if what}
    asked = []
    for value in args.allow_write:
        folder = _folder(value, ctx)
        what = sandbox.protected_overlap(folder, env, plugin)
        if what:
            raise BadInput(f"--allow-write {value}: {folder} would let sandboxed commands write {what}; nothing "
                           "was written", next_command="clavain-cli setup sandbox --allow-write <a folder outside those>")
        asked.append(folder)
    opened = [p for p in caches if p not in kept_out] if args.caches else []
    opened += [folder for folder in asked if folder not in opened]
    domains = [d for tool in tools for d in tool.domains] if args.registries else []

    wanted = sandbox.wanted_settings(project, [projecttools.entry(p, env) for p in opened], domains)
    merged, changes = merge(current, wanted, path=path, rerun=SETUP, text=text)
    created = [p for p in opened if not p.is_dir()]
    if changes and not args.dry_run:
        try:
            for folder in created:
                folder.mkdir(parents=True, exist_ok=True)
            atomic_write(path, dump(merged))
        except OSError as exc:
            raise EnvironmentProblem(f"cannot write it: {exc.strerror or exc}; inside Claude Code's sandbox the "
                                     "project's .claude/ settings are read-only", path=path,
                                     next_command="run `clavain-cli setup sandbox` in your own terminal")

    lines = _written(changes, created, args.dry_run, env)
    lines += _warnings(merged, project, env, plugin)
    lines += ["", "Claude Code reads its settings when a session starts: the sandbox holds from the next session\n"
                  "started in this folder, not in a session running now.", "", CHANGES.format(owned=_owned(project)),
              "", *_tools_text(tools, kept_out, args, env)]
    level = sandbox.protection_level(project, env)
    lines += ["", f"For a new session: {level.line()}", f"next: start a new Claude Code session in {project}"]
    ctx.out("\n".join(lines))
    return 0


def _written(changes: list[str], created: list, dry_run: bool, env) -> list[str]:
    from clavain.core.claudesettings import LOCAL_FILE
    from clavain.core.projecttools import entry

    shown = LOCAL_FILE.as_posix()
    if not changes:
        return [f"{shown} already holds these settings; nothing was written."]
    lines = [f"would write {shown} (--dry-run: nothing was written):" if dry_run else f"wrote {shown}:"]
    lines += [f"  {change}" for change in changes]
    verb = "would create" if dry_run else "created"
    return lines + [f"  {verb} {entry(p, env)} (the sandbox opens only a folder that exists)" for p in created]


def _warnings(merged: dict, project, env, plugin) -> list[str]:
    """The file's own ``allowWrite`` entries that open what must stay closed (the level says so too), and its
    deny rules that close what ``clavain-cli run`` writes."""
    from clavain.core import sandbox

    filesystem = (merged.get("sandbox") or {}).get("filesystem") or {}
    deny = (merged.get("permissions") or {}).get("deny") or []
    lines = [f"warning: permissions.deny {rule!r} also makes it read-only to sandboxed commands (Claude Code turns "
             "Edit deny rules into sandbox write denials), so clavain-cli cannot record a run there; make it a "
             "permissions.ask rule" for rule in sandbox.denied_to_the_run(deny, project, env)]
    for item in filesystem.get("allowWrite") or []:
        folder = sandbox.entry_path(item, env, project) if isinstance(item, str) else None
        what = folder and sandbox.protected_overlap(folder, env, plugin)
        if what:
            lines.append(f"warning: sandbox.filesystem.allowWrite {item!r} lets sandboxed commands write {what}; "
                         "remove it")
    return lines


def _owned(project) -> str:
    """What only clavain-cli writes, as the user reads it: a file's companions (``clavain.db-wal``) fold into
    ``clavain.db*``."""
    from clavain.core.paths import owned_paths

    shown: list[str] = []
    for path, folder in owned_paths(project):
        rel = path.relative_to(project).as_posix()
        stem = next((i for i, s in enumerate(shown) if rel.startswith(s.rstrip("*")) and not s.endswith("/")), None)
        if stem is not None:
            shown[stem] = shown[stem].rstrip("*") + "*"
        else:
            shown.append(rel + ("/" if folder else ""))
    return ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]


def _tools_text(tools, kept_out: dict, args, env) -> list[str]:
    from clavain.core.projecttools import entry

    if not tools:
        return ["No package tool found in this project (--allow-write DIR opens a folder of your choice)."]
    markers = ", ".join(dict.fromkeys(tool.marker for tool in tools))
    lines = [f"Tools this project uses (found from {markers}):"]
    rows = [(f"{tool.name} ({tool.marker})", ", ".join(entry(p, env) for p in tool.caches if p not in kept_out),
             ", ".join(tool.domains)) for tool in tools]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines += [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]
    if not args.caches:
        lines.append("Sandboxed, they cannot write these caches: `clavain-cli setup sandbox --caches` adds them "
                     "to\n  sandbox.filesystem.allowWrite.")
    if not args.registries:
        lines.append("They reach these registries only when asked: `clavain-cli setup sandbox --registries` adds "
                     "them to\n  sandbox.network.allowedDomains.")
    lines += [f"Not offered: {entry(p, env)} would let sandboxed commands write {what}." for p, what in kept_out.items()]
    return lines
