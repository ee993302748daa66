"""Field checks shared by the kinds (apimachinery's util/validation and metav1 validation).

Each returns a list of ``Cause``; the wording mirrors upstream's (k8s.io/apimachinery/pkg/util/
validation/validation.go: IsQualifiedName, IsValidLabelValue, IsValidPortName, IsValidIP;
pkg/apis/meta/v1/validation: ValidateLabelSelector; pkg/apis/core/validation: ValidateNonSpecialIP,
ValidateAnnotations).

No ``from __future__ import annotations`` here: the name is one of the checks (``annotations``).
"""
import ipaddress
import re

from .. import i18n
from .status import Cause, cause

QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^[-a-z0-9]+$")
PERCENT = re.compile(r"^[0-9]+%$")
TOTAL_ANNOTATION_SIZE = 256 * 1024       # TotalAnnotationSizeLimitB
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class Rule:
    """An explanation rendered in the language asked when the Status is written."""

    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = key, params

    def render(self, lang: str | None = None) -> str:
        return i18n.t(f"reliability.rule.{self.key}", lang, **self.params)

    def __str__(self) -> str:
        return self.render()


def short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= 60 else text[:57] + "..."


def invalid(field: str, value: object, rule: str, **params: object) -> Cause:
    return cause(field, "cause.invalid", value=f'"{short(value)}"', detail=Rule(rule, **params))


def qualified_name(value: object, field: str) -> list[Cause]:
    """A label or annotation key: ``[prefix/]name``, prefix a DNS subdomain, name 63 at most."""
    if not isinstance(value, str) or not value:
        return [invalid(field, value, "qualified_name")]
    prefix, _, name = value.rpartition("/")
    if "/" in value and not prefix:
        return [invalid(field, value, "qualified_prefix")]
    causes = []
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        causes.append(invalid(field, value, "qualified_prefix"))
    if len(name) > 63 or not QUALIFIED_NAME.match(name):
        causes.append(invalid(field, value, "qualified_name"))
    return causes


def label_value(value: object, field: str) -> list[Cause]:
    if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
        return [invalid(field, value, "label_value")]
    return []


def labels(values: dict | None, field: str) -> list[Cause]:
    causes: list[Cause] = []
    for key, value in (values or {}).items():
        causes += qualified_name(key, field)
        causes += label_value(value, field)
    return causes


def annotations(values: dict | None, field: str) -> list[Cause]:
    causes: list[Cause] = []
    total = 0
    for key, value in (values or {}).items():
        causes += qualified_name(key, field)
        total += len(str(key)) + len(str(value))
    if total > TOTAL_ANNOTATION_SIZE:
        causes.append(cause(field, "cause.too_long", limit=TOTAL_ANNOTATION_SIZE))
    return causes


def selector(value: dict | None, field: str) -> list[Cause]:
    """A metav1.LabelSelector: label keys/values, known operators, values as they require."""
    if not value:
        return []
    causes = labels(value.get("matchLabels"), f"{field}.matchLabels")
    for i, expr in enumerate(value.get("matchExpressions") or []):
        at = f"{field}.matchExpressions[{i}]"
        causes += qualified_name(expr.get("key"), f"{at}.key")
        op, values = expr.get("operator"), expr.get("values") or []
        if op not in OPERATORS:
            causes.append(cause(f"{at}.operator", "cause.unsupported", value=short(op),
                                supported=", ".join(f'"{o}"' for o in OPERATORS)))
        elif op in ("In", "NotIn") and not values:
            causes.append(cause(f"{at}.values", "cause.required"))
        elif op in ("Exists", "DoesNotExist") and values:
            causes.append(cause(f"{at}.values", "cause.forbidden",
                                detail=Rule("no_values", operator=op)))
        for j, v in enumerate(values):
            causes += label_value(v, f"{at}.values[{j}]")
    return causes


def port_name(value: object, field: str) -> list[Cause]:
    """IsValidPortName: an IANA service name (15 characters, a letter, no '--', no edge '-')."""
    if (not isinstance(value, str) or not 0 < len(value) <= 15 or not IANA_SVC_NAME.match(value)
            or not re.search("[a-z]", value) or "--" in value or value[0] == "-"
            or value[-1] == "-"):
        return [invalid(field, value, "port_name")]
    return []


def port_number(value: object, field: str, allow_zero: bool = False) -> list[Cause]:
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 65535:
        return [cause(field, "cause.invalid", value=short(value),
                      detail=Rule("port_range", low=low))]
    return []


def ip(value: object, field: str, special: bool = True) -> list[Cause]:
    """IsValidIP, and with ``special=False`` ValidateNonSpecialIP (no 0.0.0.0, loopback,
    link-local)."""
    try:
        addr = ipaddress.ip_address(value) if isinstance(value, str) else None
    except ValueError:
        addr = None
    if addr is None:
        return [invalid(field, value, "ip")]
    if not special and (addr.is_unspecified or addr.is_loopback or addr.is_link_local
                        or addr.is_multicast):
        return [invalid(field, value, "special_ip")]
    return []


def dns_label(value: object, field: str) -> list[Cause]:
    if not isinstance(value, str) or len(value) > 63 or not DNS1123_LABEL.match(value):
        return [invalid(field, value, "dns_label")]
    return []


def one_of(value: object, field: str, allowed: tuple[str, ...]) -> list[Cause]:
    if value not in allowed:
        return [cause(field, "cause.unsupported", value=short(value),
                      supported=", ".join(f'"{a}"' for a in allowed))]
    return []


def int_or_percent(value: object, field: str) -> list[Cause]:
    """A rolling-update bound: an integer >= 0 or a percentage ``"25%"``."""
    if isinstance(value, str):
        return [] if PERCENT.match(value) else [invalid(field, value, "int_or_percent")]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return []
    return [invalid(field, value, "int_or_percent")]
