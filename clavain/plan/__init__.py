"""Plans: every plan format read into the one ``Plan`` model, and the batches made from it.

Owns: ``reader`` (the entry, ``read_plan``), ``source`` (lines, fences, headings), the formats (``headings``,
``body``, ``speckit``, ``gsd``, ``manifest``), ``verify`` (``<verify>`` blocks), ``musthaves`` (reading them),
``deps``, ``yamlfile``, ``bead`` and ``lines`` (the bead id and fence-aware lines for the gate's fast path),
``model`` and ``batching``.
May import: the core, the standard library, pydantic and PyYAML. Never the gate, the run, the guard or the CLI.
"""
