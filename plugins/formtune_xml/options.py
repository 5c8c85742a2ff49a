"""The ``xml:`` section of a task file (``task.options("xml")``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class XmlOptions(BaseModel):
    """How an XML task reads its schema and, for a JSON Schema, how values become elements."""

    model_config = ConfigDict(extra="forbid")

    root: str | None = Field(
        None, description="Root element name. With an XSD: which global element documents start with "
        "(default: the first declared). With a JSON Schema: the root element (default: the schema's "
        "'title' when it is an XML name, else 'root').")
    attributes: list[str] = Field(
        default_factory=list, description="JSON Schema only: property names (at any depth) whose scalar "
        "values are written as attributes of their parent element instead of child elements.")
    xsd_version: Literal["1.0", "1.1"] = Field("1.0", description="XSD version of the task's schema.")
