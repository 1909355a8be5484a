"""Sphinx configuration for the tariffsim documentation site.

Build: ``pip install -e ".[docs]" && sphinx-build -W -b html docs docs/_build/html``.
Sphinx with numpydoc and the PyData theme, as SciPy and xarray use: the docstrings are
numpydoc already, so the API reference is generated from them without a second format.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import tariffsim  # noqa: E402

project = "tariffsim"
author = "tariffsim developers"
copyright = "2025-2026, tariffsim developers"
release = version = tariffsim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "schema_reference",
]
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"
html_title = "tariffsim"
html_static_path: list[str] = []
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
nitpicky = False
suppress_warnings = ["autosummary.import_cycle"]
