"""``.. scenario-schema::``: the scenario file reference, generated from the pydantic schema.

One section per top-level table and per measure kind, one row per field (name, type,
default, description). A field without a description is a Sphinx warning, so the docs
build (run with ``-W`` in CI) fails until every field is documented.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.nodes import nested_parse_with_titles

LOG = logging.getLogger(__name__)


def _type_name(annotation) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    for noise in ("typing.", "datetime.", "Annotated[", "<class '", "'>"):
        text = text.replace(noise, "")
    return text.replace("|", " or ")


def _default(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return repr(field.default_factory())
    return repr(field.default)


def _table(model, title: str) -> list[str]:
    doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    lines = [title, "^" * len(title), "", doc, "", ".. list-table::", "   :header-rows: 1",
             "   :widths: 18 22 14 46", "", "   * - field", "     - type", "     - default", "     - meaning"]
    for name, field in model.model_fields.items():
        description = field.description or ""
        if not description and name not in ("kind",):
            LOG.warning("scenario schema: %s.%s has no description", model.__name__, name)
        if name == "kind":
            description = description or "Selects this measure kind."
        lines += [f"   * - ``{name}``", f"     - {_type_name(field.annotation)}", f"     - ``{_default(field)}``",
                  f"     - {description}"]
    return lines + [""]


class ScenarioSchema(Directive):
    has_content = False

    def run(self):
        from tariffsim.scenario import schema

        lines = ["Top level", "---------", ""]
        lines += _table(schema.ScenarioFile, "Scenario file")
        lines += _table(schema.WorldSpec, "[world]")
        lines += _table(schema.ParameterSpec, "[parameters]")
        lines += ["Measure kinds", "-------------", ""]
        seen = set()
        for model in schema.MEASURE_MODELS.values():
            if model in seen:
                continue
            seen.add(model)
            kinds = [k for k, m in schema.MEASURE_MODELS.items() if m is model]
            lines += _table(model, " / ".join(f"kind = \"{k}\"" for k in kinds))
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines), node)
        return node.children


def setup(app):
    app.add_directive("scenario-schema", ScenarioSchema)
    return {"parallel_read_safe": True, "version": "1"}
