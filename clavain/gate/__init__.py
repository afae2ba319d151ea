"""The gate before execution: phases and their transitions, tiers, the SQLite store, beads, the Phase line.

Owns: ``gates`` (infer-bead, enforce-gate, advance-phase), ``store`` (``.clavain/execute-plan/clavain.db``), ``beads``
(the `bd` client), ``phaseline`` (the plan's ``**Phase:**`` line), ``config`` (``.clavain/config.yaml``).
May import: plans (``clavain.plan``), the core, the standard library and PyYAML. Never the run, the guard or
the CLI. A plan is handed in already read; the gate does not read it again.
"""
