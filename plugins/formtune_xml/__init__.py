"""The builtin XML plugin: the ``xml`` output format, the ``xml-schema`` validator (XSD via
xmlschema, or a JSON Schema through the XML mapping), the ``xml-sampler`` generator and the task
files' ``xml:`` section. Registered through the ``formtune`` entry-point group like any other.

Heavy imports (xmlschema, Faker, outlines) happen on first use: loading plugins stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from formtune import TaskOptions, hookimpl
from formtune.contrib import Draft, derive_seed

from formtune_xml.format import XmlFormat
from formtune_xml.options import XmlOptions
from formtune_xml.validate import XmlSchemaValidator

if TYPE_CHECKING:
    from formtune.task import Task

    from formtune_xml.schema import XmlSchema


class XmlSampler:
    """Samples valid XML outputs for a task; the task's templates write the inputs."""

    name = "xml-sampler"

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        schema: XmlSchema = task.schema
        sample_seed = derive_seed(seed, index)
        options = task.options("xml")
        if schema.xsd is not None:
            from formtune_xml.generate import XsdInstances

            instances = task.memo("xml-sampler", lambda: XsdInstances(schema, options.root))
            return Draft(output=instances.sample(sample_seed), meta={"sample_seed": sample_seed})
        from formtune.schema.sampler import SchemaSampler

        from formtune_xml.mapping import root_name, to_xml

        sampler = task.memo("xml-json-sampler", lambda: SchemaSampler(schema.json, base_dir=task.base_dir))
        output = to_xml(sampler.sample(sample_seed), root_name(schema.json, options.root), set(options.attributes))
        return Draft(output=output, meta={"sample_seed": sample_seed})


@hookimpl
def register_formats(register):
    register(XmlFormat())


@hookimpl
def register_validators(register):
    register(XmlSchemaValidator())


@hookimpl
def register_generators(register):
    register(XmlSampler())


@hookimpl
def register_task_options(register):
    register(TaskOptions("xml", XmlOptions, "XML tasks: root element, attributes of a JSON Schema, XSD version"))
