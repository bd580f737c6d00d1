"""Sphinx configuration of the heavyball documentation.

Build it from the repository root with::

    pip install -e ".[docs]" && sphinx-build -W -b html docs docs/_build/html

Pages that follow the code are generated here at build time (into ``docs/_generated``,
never committed): the API reference walks ``heavyball.__all__`` and the public
submodules, the figure gallery walks ``heavyball.figures.FIGURES``, and the derivations
page renders ``heavyball.symbolic.DERIVATIONS``. MathJax is served from the build itself
(``mathjax`` is a dependency of the ``docs`` extra), so the site loads nothing from the
internet.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the checkout's heavyball, also without an installation
sys.path.insert(0, str(DOCS))

from _ext import generate  # noqa: E402

import heavyball  # noqa: E402

project = "heavyball"
author = "heavyball maintainers"
copyright = "heavyball maintainers"
release = heavyball.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "_ext.docstrings",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "gallery_src", "_templates", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
html_static_path = ["_static"]

# ----------------------------------------------------------------------------------------
# pages generated from the code (API, figure gallery sources, derivations)
# ----------------------------------------------------------------------------------------
GENERATED = DOCS / "_generated"
generate.all_pages(GENERATED)

# ----------------------------------------------------------------------------------------
# API reference
# ----------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autosummary_context = {"flat_api": sorted(generate.flat_api_names())}
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpy-style docstrings state the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
add_module_names = False
suppress_warnings = [
    # the flat API re-exports names whose canonical home is a submodule; both are documented
    "ref.python",
]

intersphinx_mapping: dict = {}  # no network at build time

# ----------------------------------------------------------------------------------------
# maths: MathJax 3 from the docs build itself
# ----------------------------------------------------------------------------------------
mathjax_path = "mathjax/tex-chtml-full.js"
mathjax3_config = {
    "tex": {"packages": {"[+]": ["textmacros", "ams"]}},
    "loader": {"load": ["[tex]/textmacros"]},
}


def _copy_mathjax(app, exception):
    """Copy the MathJax script and its fonts into ``_static/mathjax`` of the built site."""
    if exception is not None or app.builder.format != "html":
        return
    import mathjax  # the package ``django-static-mathjax`` ships MathJax 3 as static files

    src = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    dst = Path(app.outdir) / "_static" / "mathjax"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "tex-chtml-full.js", dst / "tex-chtml-full.js")
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(src / fonts, dst / fonts, dirs_exist_ok=True)


# ----------------------------------------------------------------------------------------
# galleries: the lecture walkthrough, the figure catalogue, the analysis scripts
# ----------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": [
        "gallery_src/lecture",
        str(GENERATED / "figures"),
        "gallery_src/analysis",
    ],
    "gallery_dirs": ["walkthrough", "gallery", "analysis"],
    "filename_pattern": r".*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("_ext.generate.figure_scraper",),
    "reset_modules": ("_ext.generate.close_figures",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": (),
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "min_reported_time": 1e9,
    "show_signature": False,
}

# ----------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"heavyball {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 5,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {
    "**": ["sidebar-nav-bs"],
    "index": [],
    "walkthrough/walkthrough": [],
    "getting_started": [],
    "glossary": [],
    "derivations": [],
    "findings": [],
    "benchmarks": [],
    "citing": [],
    "changelog": [],
}
html_show_sourcelink = False
html_last_updated_fmt = None
html_css_files = ["heavyball.css"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}  # an explicit mode: the theme logs an error for an empty one


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True}
