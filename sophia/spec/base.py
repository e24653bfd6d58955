"""What every model of the spec shares: the strict base class and the most common names."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
GROUP_NAME = r"^[a-z][a-z0-9_]*$"

DnsLabel = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=63)]
GroupName = Annotated[str, StringConstraints(pattern=GROUP_NAME, max_length=63)]


class SpecModel(BaseModel):
    """Strict base: unknown keys are errors, YAML keys are camelCase, values are immutable.

    A field's description is the docstring under it. Only the JSON Schema shows it, so the
    schema's generator reads it (`docstrings.py`), not pydantic at every class definition
    (`use_attribute_docstrings` was a tenth of `sophia validate`)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        allow_inf_nan=False,  # .inf and .nan are YAML floats, but no budget or size
    )
