"""The builtin XML plugin: the ``xml`` output format, the ``xml-schema`` validator (XSD via
xmlschema, or a JSON Schema through the XML mapping), the ``xml-sampler`` generator and the task
files' ``xml:`` section. Registered through the ``formtune`` entry-point group like any other.

Heavy imports (xmlschema, Faker, outlines) happen on first use: loading plugins stays cheap.
"""

from __future__ import annotations

from formtune import TaskOptions, hookimpl

from formtune_xml.format import XmlFormat
from formtune_xml.options import XmlOptions
from formtune_xml.validate import XmlSchemaValidator


@hookimpl
def register_formats(register):
    register(XmlFormat())


@hookimpl
def register_validators(register):
    register(XmlSchemaValidator())


@hookimpl
def register_generators(register):
    from formtune_xml.generate import XmlSampler

    register(XmlSampler())


@hookimpl
def register_task_options(register):
    register(TaskOptions("xml", XmlOptions, "XML tasks: root element, attributes of a JSON Schema, XSD version"))
