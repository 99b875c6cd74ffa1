"""Failed-login throttling by source, so that a stranger cannot lock anyone else out.

NativeAuthenticator locks a *name* after N failures, whoever sends them: five wrong passwords
for `admin` from anywhere keep the admin out. Here failures count against where they come from:

- a name at a source: `per_name` failures for one name from one address lock that name *from
  that address* (a student who mistypes locks only themselves, on their own machine);
- a source: `per_source` failures from one address, whatever the names, lock that address for
  every name (one address spraying many names); a classroom behind one NAT address shares
  this budget, so it is larger.

Nothing locks a name for everyone. Many sources guessing one name are not blocked (bcrypt and the
minimum password length make that slow); they are counted, and the hub's metrics turn a burst
into an alert for the admins (monitoring/rules/celerylab.yml, LoginFailureBurst).

The client address is the proxy's X-Forwarded-For entry only when the request came from one of
our own proxies: otherwise a client could name any address per request and dodge every limit.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import Counter

LOGIN_FAILURES = Counter(
    "celerylab_login_failures_total",
    "Failed hub logins (wrong password or unknown name), whatever the source",
)
LOGIN_LOCKOUTS = Counter(
    "celerylab_login_lockouts_total",
    "Lockouts started: scope name_at_source (one name from one address) or source (an address)",
    ["scope"],
)
LOGIN_REFUSED = Counter(
    "celerylab_login_refused_total",
    "Login attempts refused without checking the password, because their source is locked",
)


def client_address(peer: str, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The address a request came from, as far as our own proxies vouch for it.

    `peer` is the TCP peer. If it is one of our proxies, the X-Forwarded-For entries are read
    from the right (each proxy appends the address it saw), skipping our proxies, and the first
    other entry is the client. A client's own X-Forwarded-For entries sit to the left of the
    ones our proxies added, so they are never reached; X-Real-Ip is never read.
    """
    trusted = set(trusted)
    if peer not in trusted or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        if not _is_ip(hop):
            return peer  # a malformed entry where a proxy should have written an address
        if hop not in trusted:
            return hop
    return peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass
class _Record:
    count: int
    last: float


@dataclass
class LoginThrottle:
    per_name: int = 5  # failures for one name from one source before that pair is locked
    per_source: int = 50  # failures from one source, any names, before the source is locked
    window: float = 600.0  # seconds: a lock lasts this long after the last failure
    max_entries: int = 100_000  # memory bound against many spoofed or IPv6 sources
    clock: object = field(default=time.monotonic, repr=False)
    _pairs: dict[tuple[str, str], _Record] = field(default_factory=dict, repr=False)
    _sources: dict[str, _Record] = field(default_factory=dict, repr=False)

    def seconds_left(self, source: str, name: str) -> int:
        """Seconds until `name` may try again from `source` (0: it may try now)."""
        now = self.clock()
        left = 0.0
        for record, limit in (
            (self._live(self._pairs, (source, name), now), self.per_name),
            (self._live(self._sources, source, now), self.per_source),
        ):
            if record and record.count >= limit:
                left = max(left, self.window - (now - record.last))
        return max(1, int(left + 0.999)) if left > 0 else 0

    def refused(self) -> None:
        LOGIN_REFUSED.inc()

    def failed(self, source: str, name: str) -> None:
        now = self.clock()
        LOGIN_FAILURES.inc()
        for table, key, limit, scope in (
            (self._pairs, (source, name), self.per_name, "name_at_source"),
            (self._sources, source, self.per_source, "source"),
        ):
            record = self._live(table, key, now)
            if record is None:
                record = table[key] = _Record(0, now)
            record.count += 1
            record.last = now
            if record.count == limit:
                LOGIN_LOCKOUTS.labels(scope=scope).inc()
            self._bound(table, now)

    def succeeded(self, source: str, name: str) -> None:
        """A right password clears that name's failures from that source (not the source's:
        an attacker with one valid account must not reset their budget by logging in)."""
        self._pairs.pop((source, name), None)

    def _live(self, table: dict, key, now: float) -> _Record | None:
        record = table.get(key)
        if record is not None and now - record.last > self.window:
            del table[key]
            return None
        return record

    def _bound(self, table: dict, now: float) -> None:
        if len(table) <= self.max_entries:
            return
        for key in [k for k, r in table.items() if now - r.last > self.window]:
            del table[key]
        while len(table) > self.max_entries:  # still too many: forget the oldest first
            del table[min(table, key=lambda k: table[k].last)]
