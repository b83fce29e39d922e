"""Sphinx configuration of the course book (``make book``; see book/build.py).

The notebooks arrive here already executed by build.py, so Sphinx (with MyST-NB) only renders
them. Maths is rendered at build time into MathML, which every current browser draws natively:
the book needs no JavaScript and no network to show an equation, and an equation that cannot be
converted stops the build instead of showing raw TeX.
"""

from docutils import nodes
from latex2mathml.converter import convert

project = "ganedu: a course on Generative Adversarial Networks"
author = "ganedu"
copyright = "ganedu authors, MIT licence"

extensions = ["myst_nb"]
nb_execution_mode = "off"  # build.py executes every notebook before Sphinx runs
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = "ganedu"
html_theme_options = {"show_toc_level": 2, "use_download_button": False}
html_copy_source = False
html_math_renderer = "mathml"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]


def _inline_math(self, node):
    """$…$ → <math>…</math> inside the line of text."""
    self.body.append(convert(node.astext()))
    raise nodes.SkipNode


def _display_math(self, node):
    """$$…$$ → <math display="block">…</math> in its own block."""
    mathml = convert(node.astext(), display="block")
    self.body.append(f'<div class="math-display">{mathml}</div>')
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (_inline_math, None), (_display_math, None))
