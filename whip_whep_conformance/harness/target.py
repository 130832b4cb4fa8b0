"""What the suite is pointed at: URLs, credentials and the profiles it is graded against."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Target:
    whip_profile: str
    whep_profile: str
    endpoint: str | None = None  # fixed WHIP endpoint URL
    whep_endpoint: str | None = None  # fixed WHEP endpoint URL (plays what `endpoint` publishes; alone: what is live)
    live_inputs: str | None = None  # collection URL that mints publish/play pairs
    token: str | None = None
    api_token: str | None = None
    ice_servers: list[str] = field(default_factory=list)
    timeout_s: float = 10.0
    verify: bool | str = True
    embedded: bool = False
    label: str = ""
    may_create: bool = True  # False with --no-create: read-only checks only
    slow_cases: bool = False  # --slow-cases: cases that wait out a target's 30-second timeouts run too
    client: str = ""  # client conformance: the client(s) graded, as the run names them (command lines)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a report: the tokens, and a fixed publish URL's secret
        (Cloudflare's scheme puts it in the path; the play URL is public)."""
        from whip_whep_conformance.harness.wire import url_secrets

        return tuple(s for s in (self.token, self.api_token, *url_secrets(self.endpoint, public=(self.whep_endpoint,))) if s)

    def describe(self) -> str:
        """The target's label in every report and console line: its URL, with the secrets redacted."""
        from whip_whep_conformance.harness.wire import redact_text

        if self.client:
            return redact_text(f"client {self.client} ({self.label})", self.secrets)
        if self.embedded:
            return f"embedded reference server ({self.label})"
        return redact_text(self.live_inputs or self.endpoint or self.whep_endpoint or "?", self.secrets)


def is_loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
