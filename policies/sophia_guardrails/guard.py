"""Policies never crash the pack: a resource they cannot read is reported, not fatal."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from .props import label

ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]
T = TypeVar("T")


def config(args: ResourceValidationArgs | StackValidationArgs, key: str, default: T) -> T:
    """A policy's config value; the defaults here match the config schema's."""
    value = (args.get_config() or {}).get(key)
    return default if value is None else value


MAX_MESSAGE = 1000
"""Characters of a violation message: a value quoted in it may be megabytes long."""


def clipped(report: ReportViolation) -> ReportViolation:
    def clip(message: str, urn: str | None = None) -> None:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        report(message, urn)

    return clip


def guarded_resource(check: ResourceCheck) -> ResourceCheck:
    @functools.wraps(check)
    def validate(args: ResourceValidationArgs, raw_report: ReportViolation) -> None:
        report = clipped(raw_report)
        try:
            check(args, report)
        except UnknownValueError:
            raise  # pulumi-policy reports "can't run during preview" for unknown values
        except Exception as exc:
            report(
                f"{label(args.resource_type, args.name, args.props)}: properties this policy "
                f"cannot read "
                f"({exc}); fix the resource definition",
                None,
            )

    return validate


def guarded_stack(check: StackCheck) -> StackCheck:
    @functools.wraps(check)
    def validate(args: StackValidationArgs, raw_report: ReportViolation) -> None:
        report = clipped(raw_report)
        try:
            check(args, report)
        except UnknownValueError:
            raise
        except Exception as exc:
            report(f"the stack has resources this policy cannot read ({exc})", None)

    return validate
