"""Sphinx configuration of the corinfo_sim documentation site (``bash scripts/docs.sh``).

Sphinx, because the docstrings are numpydoc (numpydoc renders them and checks them), the API
reference is generated from them (autodoc, autosummary), and nitpicky mode with warnings as errors
turns a broken cross-reference into a failed build, as in Brian2's own documentation. MyST reads
the Markdown pages (``model.md`` is shared with the repository). Three directives of this file
keep the site in step with the code: ``corinfo-parameters`` (a variant's parameter table, from
its declarations), ``corinfo-help`` (the command line's help text) and ``corinfo-api-check``,
which fails the build when a public name of ``corinfo_sim`` has no docstring or no entry in the
API reference.
"""
import os
import re
import sys

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util import logging

sys.path.insert(0, os.path.abspath(".."))

project = "corinfo_sim"
author = "corinfo_sim authors"
copyright = "2026, corinfo_sim authors"
release = "0.1.0"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "figures/README*", "slurm_sweep.sh"]
root_doc = "index"
html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "Brian2 simulator of CorInfoMax networks", "page_width": "1100px"}

autosummary_generate = True
templates_path = ["_templates"]
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
#: every documented public object is checked: a missing docstring (GL08) or an undocumented or
#: unknown parameter (PR01, PR02) is a warning, and so a failed build
numpydoc_validation_checks = {"GL08", "PR01", "PR02"}
numpydoc_validation_exclude = {r"\.__init__$", r"\.__repr__$",
                               # dataclass fields and a variant's declared values, listed as Attributes
                               r"^corinfo_sim\.datasets\.Dataset", r"^corinfo_sim\.params\.Params",
                               r"^corinfo_sim\.progress\.Reporter"}

nitpicky = True
#: names of other projects that the docstrings mention as types (no network at build time, so
#: no intersphinx): they stay plain text
nitpick_ignore_regex = [(r"py:.*", r"(brian2|numpy|np|matplotlib|pandas|distributed|dask)(\..*)?"),
                        (r"py:.*", r"(ndarray|dict|list|str|int|float|bool|callable|tuple|object)")]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing", "myst.header"]

logger = logging.getLogger(__name__)


class ParametersDirective(Directive):
    """``.. corinfo-parameters:: MODEL``: the table of a variant's parameters."""

    required_arguments = 1

    def run(self):
        import corinfo_sim
        rows = []
        for p in corinfo_sim.parameters(self.arguments[0]):
            default = p["default"]
            if isinstance(default, tuple):
                default = ", ".join(map(str, default))
            unit = p["unit"] or ""
            rows.append([f"``{p['name']}``", f"``{p['option']}``" if p["option"] else "—",
                         str(default).replace("|", "/"), unit, p["help"].replace("|", "/")])
        text = [".. list-table::", "   :header-rows: 1", "   :widths: 14 16 14 6 50", "",
                "   * - keyword", "     - option", "     - default", "     - unit", "     - meaning"]
        for row in rows:
            text.append(f"   * - {row[0]}")
            text += [f"     - {cell}" if cell else "     -" for cell in row[1:]]
        return self._parse(text)

    def _parse(self, lines):
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(lines), self.content_offset, node)
        return node.children


class HelpDirective(ParametersDirective):
    """``.. corinfo-help:: [COMMAND]``: the command line's help text."""

    required_arguments = 0
    optional_arguments = 1

    def run(self):
        from corinfo_sim.cli import build_parser
        parser = build_parser()
        if self.arguments:
            parser = parser._subparsers._group_actions[0].choices[self.arguments[0]]
        os.environ.setdefault("COLUMNS", "100")
        return [nodes.literal_block(text=parser.format_help())]


class ApiCheckDirective(ParametersDirective):
    """``.. corinfo-api-check::``: every public name has a docstring and an entry in this page."""

    required_arguments = 0
    has_content = False

    def run(self):
        import inspect

        import corinfo_sim
        from corinfo_sim import plotting
        page = open(self.state.document["source"]).read()
        names = [f"corinfo_sim.{n}" for n in corinfo_sim.__all__ if n != "plotting"]
        names += [f"corinfo_sim.plotting.{n}" for n in plotting.__all__]
        for name in names:
            obj = corinfo_sim
            for part in name.split(".")[1:]:
                obj = getattr(obj, part)
            if not inspect.getdoc(obj):
                logger.warning(f"{name} is public (in __all__) but has no docstring")
            short = name.split(".")[-1]
            if f"   {short}\n" not in page and f"{name}\n" not in page:
                logger.warning(f"{name} is public (in __all__) but not in the API reference (docs/api.rst)")
        return []


#: the objects of the public interface: their docstrings are held to every reference they make
PUBLIC_MODULES = ("api", "interactive", "plotting", "brian2state", "errors")


def _public(name, what):
    import corinfo_sim
    parts = name.split(".")
    if parts[0] != "corinfo_sim" or len(parts) < 2:
        return False
    if parts[1] in PUBLIC_MODULES:
        return True
    if what == "module":
        return False
    if parts[1] == "params" and len(parts) > 2:  # the module corinfo_sim.params, not the function
        return False
    return parts[1] in corinfo_sim.__all__


ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|obj|exc):`~?([^`]+)`")
BARS = re.compile(r"(?<![`\\|])\|([^|`\s][^|`]*?)\|(?![`|])")


def internal_docstrings(app, what, name, obj, options, lines):
    """Docstrings of the layers behind the interface (the module pages, the variants) are shown as
    they are written for readers of the code: their cross-references to objects that the site does
    not document become literals, and |x| (an absolute value) is not a substitution."""
    for n, line in enumerate(lines):
        line = BARS.sub(lambda m: "\\|" + m.group(1) + "\\|", line)
        if not _public(name, what):
            line = ROLE.sub(lambda m: "``" + m.group(1) + "``", line)
        lines[n] = line


def setup(app):
    app.connect("autodoc-process-docstring", internal_docstrings, priority=400)
    directives.register_directive("corinfo-parameters", ParametersDirective)
    directives.register_directive("corinfo-help", HelpDirective)
    directives.register_directive("corinfo-api-check", ApiCheckDirective)
