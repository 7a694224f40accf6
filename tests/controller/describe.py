"""What ``kubectl describe`` prints for an object and its Events, rendered the way kubectl does it
(k8s.io/kubectl/pkg/describe: the generic describer, ``printUnstructuredContent``, ``smartLabelFor``,
``DescribeEvents``; Go's text/tabwriter with padding 2). Tests use it to read the status as support
staff will, and the README's "Support: reading describe" example is rendered with it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_ACRONYMS = {"API", "URL", "UID", "OSB", "GUID"}
_FLUSH = "\f"  # kubectl flushes its tab writer before the Events table


def describe(obj: dict[str, Any], events: list[dict[str, Any]], *, now: datetime) -> str:
    lines: list[str] = []
    meta = obj.get("metadata") or {}
    lines.append(f"Name:\t{meta.get('name', '')}")
    lines.append(f"Namespace:\t{meta.get('namespace', '')}")
    lines += _multiline("Labels", [f"{k}={v}" for k, v in sorted((meta.get("labels") or {}).items())])
    annotations = meta.get("annotations") or {}
    lines += _multiline("Annotations", [f"{k}: {v}" for k, v in sorted(annotations.items())])
    content = {**obj, "metadata": {k: v for k, v in meta.items() if k not in _SHOWN_ABOVE}}
    _unstructured(lines, 0, content)
    lines += _events(events, now)
    return _tabwriter(lines)


_SHOWN_ABOVE = {"name", "namespace", "labels", "annotations", "managedFields"}


def _multiline(title: str, entries: list[str]) -> list[str]:
    if not entries:
        return [f"{title}:\t<none>"]
    return [f"{title}:\t{entries[0]}", *(f"\t{entry}" for entry in entries[1:])]


def _unstructured(lines: list[str], level: int, content: dict[str, Any]) -> None:
    indent = "  " * level
    for field in sorted(content):
        value = content[field]
        if isinstance(value, dict):
            lines.append(f"{indent}{smart_label(field)}:")
            _unstructured(lines, level + 1, value)
        elif isinstance(value, list):
            lines.append(f"{indent}{smart_label(field)}:")
            for child in value:
                if isinstance(child, dict):
                    _unstructured(lines, level + 1, child)
                else:
                    lines.append(f"{indent}  {_go(child)}")
        else:
            lines.append(f"{indent}{smart_label(field)}:\t{_go(value)}")


def smart_label(field: str) -> str:
    """kubectl's label for a field name: 'lastRunTime' -> 'Last Run Time', 'scim-token' -> 'Scim - Token'."""
    if any(not (char.isalpha() or char == "-") for char in field):
        return field
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|-+", field)
    return " ".join(part.upper() if part.upper() in _ACRONYMS else part[:1].upper() + part[1:] for part in parts)


def _go(value: Any) -> str:
    """Go's %v of a JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _events(events: list[dict[str, Any]], now: datetime) -> list[str]:
    if not events:
        return ["Events:\t<none>"]
    lines = [_FLUSH, "Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for event in sorted(events, key=lambda e: e.get("lastTimestamp") or ""):
        first = _age(event.get("firstTimestamp"), now)
        count = event.get("count") or 1
        age = f"{_age(event.get('lastTimestamp'), now)} (x{count} over {first})" if count > 1 else first
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent", "")
        lines.append(f"  {event['type']}\t{event['reason']}\t{age}\t{source}\t{event['message'].strip()}")
    return lines


def _age(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return "<unknown>"
    seconds = int((now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m" if seconds % 60 == 0 else f"{minutes}m{seconds % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    return f"{days}d" if hours % 24 == 0 or days >= 8 else f"{days}d{hours % 24}h"


def _tabwriter(lines: list[str]) -> str:
    """Go's text/tabwriter (min width 0, padding 2): a cell is text ended by a tab; the cells of one column
    are as wide as the widest in the run of consecutive lines that have that column, plus two."""
    rows = [line.split("\t") for line in lines]
    widths: list[list[int]] = [[0] * (len(row) - 1) for row in rows]
    column = 0
    while any(len(row) - 1 > column for row in rows):
        start = 0
        while start < len(rows):
            if len(rows[start]) - 1 <= column:
                start += 1
                continue
            end = start
            while end < len(rows) and len(rows[end]) - 1 > column and rows[end] != [_FLUSH]:
                end += 1
            width = max(len(rows[i][column]) for i in range(start, end)) + 2
            for i in range(start, end):
                widths[i][column] = width
            start = end
        column += 1
    out = []
    for row, row_widths in zip(rows, widths, strict=True):
        if row == [_FLUSH]:
            continue
        cells = [cell.ljust(width) for cell, width in zip(row, row_widths, strict=False)]
        out.append(("".join(cells) + row[-1]).rstrip())
    return "\n".join(out) + "\n"
