"""A run of a plan: its state (a pure fold of the journal), the journal, the model's steps, the user's
decisions, evidence, verify, Must-Haves, reports and their templates.

Owns: ``engine`` (choosing, opening and starting a run), ``state``, ``folder`` (the run folder on disk),
``journal``, ``rules``, ``steps``, ``decisions``, ``retire``, ``evidence``, ``verify``, ``musthaves``,
``snapshot``, ``report`` and ``templates/``.
May import: the gate, plans, the core, the standard library, pydantic and Jinja2. Never the guard or the CLI.
"""
