"""RFC 8288 Link header values, as WHIP/WHEP use them for `rel="ice-server"` and extensions.

The parser is strict on purpose: servers that copied early draft examples (no `<>`, `name: value`,
trailing `;`) break real clients, and the suite must say so precisely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM = re.compile(rf"\s*;\s*({_TOKEN})\s*(?:=\s*({_TOKEN}|{_QUOTED}))?\s*")


class LinkSyntaxError(ValueError):
    """A Link field value that does not follow RFC 8288 §3."""


@dataclass(frozen=True)
class Link:
    target: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> list[str]:
        return [r.lower() for r in self.params.get("rel", "").split()]

    def __str__(self) -> str:
        return format_link(self)


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _quote(value: str, always: bool = False) -> str:
    if not always and re.fullmatch(_TOKEN, value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_links(values: list[str] | str) -> list[Link]:
    """Parse one or more Link field lines (each may hold comma-joined link-values)."""
    if isinstance(values, str):
        values = [values]
    links: list[Link] = []
    for line in values:
        rest = line.strip()
        while rest:
            m = re.match(r"<([^>]*)>", rest)
            if not m:
                raise LinkSyntaxError(f"link-value must start with <URI-Reference>: {rest[:60]!r}")
            target, rest = m.group(1), rest[m.end():]
            params: dict[str, str] = {}
            while True:
                pm = _PARAM.match(rest)
                if not pm:
                    break
                name = pm.group(1).lower()
                # RFC 8288 §3: occurrences after the first of a parameter are ignored.
                if name not in params:
                    params[name] = _unquote(pm.group(2)) if pm.group(2) is not None else ""
                rest = rest[pm.end():]
            rest = rest.strip()
            if rest.startswith(","):
                rest = rest[1:].strip()
            elif rest:
                raise LinkSyntaxError(f"unexpected text after link parameters: {rest[:60]!r}")
            links.append(Link(target, params))
    return links


def format_link(link: Link, quoted: bool = False) -> str:
    """A link-value; `quoted` writes every parameter value as a quoted-string (RFC 8288 §3 allows
    either form for a token; `quoted` is the form of RFC 9725's Figure 5, rel="ice-server")."""
    parts = [f"<{link.target}>"]
    parts += [f"{name}={_quote(value, always=quoted)}" for name, value in link.params.items()]
    return "; ".join(parts)


WHIP_EXTENSIONS = "urn:ietf:params:whip:ext"  # RFC 9725 §4.9, §6.4
WHEP_EXTENSIONS = "urn:ietf:params:whep:ext"  # draft-ietf-wish-whep-03 §4.9


def extension_links(links: list[Link], namespace: str) -> list[Link]:
    """The Links with a rel in an extension namespace (WHIP_EXTENSIONS or WHEP_EXTENSIONS)."""
    return [link for link in links if any(rel.startswith(namespace) for rel in link.rels)]
