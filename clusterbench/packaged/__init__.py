"""The library's data, mapped from the checkout by pyproject.toml's package-dir (no copies in git).

``clusterbench.packaged.config`` is ``config/``, ``.published`` is ``results/published/``,
``.reference`` is ``results/reference/``, ``.schemas`` is ``workflow/schemas/``. Read them with
:mod:`clusterbench.framework.resources`, never through paths relative to a source file.
"""
