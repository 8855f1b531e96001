"""Log-in guessing: failures counted per client address and per account, with growing waits.

A staff PIN has 4 digits, so the number of guesses is what protects it. Two counts:

- per client address, over every account: LoginPolicy.address_free failures are free;
  after that the address waits before each next try, address_first_wait_s doubling up
  to address_max_wait_s;
- per account, over every address, but each address counts at most address_free of
  its failures there: after account_free failures (so from at least
  account_free / address_free addresses) the account waits for everyone,
  account_first_wait_s doubling up to account_max_wait_s. One address can slow down
  only itself, never lock a staff member out; a manager lifts an account's or an
  address's wait at once (POST /api/v1/auth/lockouts/lift).

A try during a wait is refused (429, Retry-After) without checking the secret and is not
counted, so waiting is the only way on. A try is counted when it starts and given back
if the secret was right, so parallel guesses cannot slip past the count while the
(slow, argon2) check runs. Failures are forgotten forget_after_s after the last one.

The counts live in this process's memory: a restart forgets them, and with several
processes behind one address each counts on its own (README, "Roles and limits").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["Attempt", "LoginGuard", "LoginPolicy", "Refusal"]


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed log-ins are free, and how the waits after them grow."""

    address_free: int = 5
    address_first_wait_s: float = 60.0
    address_max_wait_s: float = 3600.0
    account_free: int = 15
    account_first_wait_s: float = 900.0
    account_max_wait_s: float = 86400.0
    forget_after_s: float = 86400.0
    max_records: int = 100_000

    def __post_init__(self) -> None:
        if not 1 <= self.address_free <= self.account_free:
            raise ValueError("need 1 <= address_free <= account_free")
        if not 0 < self.address_first_wait_s <= self.address_max_wait_s:
            raise ValueError("need 0 < address_first_wait_s <= address_max_wait_s")
        if not 0 < self.account_first_wait_s <= self.account_max_wait_s:
            raise ValueError("need 0 < account_first_wait_s <= account_max_wait_s")


def _wait(failures: int, free: int, first: float, most: float) -> float:
    """The wait after `failures` failures: none while free, then first, doubling, at most `most`."""
    if failures < free:
        return 0.0
    return min(most, first * 2.0 ** min(failures - free, 64))


@dataclass
class _Address:
    failures: int = 0
    last: float = 0.0


@dataclass
class _Account:
    by_address: dict[str, int] = field(default_factory=dict)
    last: float = 0.0

    def failures(self, cap: int) -> int:
        return sum(min(n, cap) for n in self.by_address.values())


@dataclass(frozen=True)
class Refusal:
    """A try refused before the secret was checked: who waits (address or account) and how long."""

    scope: str
    retry_after_s: float


@dataclass(frozen=True)
class Attempt:
    """A try counted as a failure until succeeded() gives it back."""

    user: str
    address: str
    address_last: float
    account_last: float


class LoginGuard:
    """The failure counts of one process; time comes from `clock` (wall seconds)."""

    def __init__(self, policy: LoginPolicy | None = None, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy or LoginPolicy()
        self.clock = clock
        self._addresses: dict[str, _Address] = {}
        self._accounts: dict[str, _Account] = {}
        self.failures_total = 0
        self.refused_total: dict[str, int] = {"address": 0, "account": 0}
        self.lifted_total = 0

    def _address_wait_until(self, record: _Address) -> float:
        p = self.policy
        return record.last + _wait(record.failures, p.address_free, p.address_first_wait_s, p.address_max_wait_s)

    def _account_wait_until(self, record: _Account) -> float:
        p = self.policy
        failures = record.failures(p.address_free)
        return record.last + _wait(failures, p.account_free, p.account_first_wait_s, p.account_max_wait_s)

    def _forget_old(self, now: float) -> None:
        horizon = now - self.policy.forget_after_s
        self._addresses = {k: v for k, v in self._addresses.items() if v.last > horizon}
        self._accounts = {k: v for k, v in self._accounts.items() if v.last > horizon}
        # still full of recent failures (a flood of names or addresses): keep the newest half
        half = self.policy.max_records // 2
        if len(self._addresses) >= self.policy.max_records:
            self._addresses = dict(sorted(self._addresses.items(), key=lambda item: item[1].last)[-half:])
        if len(self._accounts) >= self.policy.max_records:
            self._accounts = dict(sorted(self._accounts.items(), key=lambda item: item[1].last)[-half:])

    def _waits(self, user: str, address: str, now: float) -> Refusal | None:
        """The longer of the account's and the address's waits, if either waits now."""
        waits = []
        account = self._accounts.get(user)
        if account is not None:
            waits.append(Refusal("account", self._account_wait_until(account) - now))
        record = self._addresses.get(address)
        if record is not None:
            waits.append(Refusal("address", self._address_wait_until(record) - now))
        longest = max(waits, key=lambda r: r.retry_after_s, default=None)
        return longest if longest is not None and longest.retry_after_s > 0 else None

    def attempt(self, user: str, address: str) -> Attempt | Refusal:
        """Count a try before its secret is checked, or refuse it while the address or account waits."""
        now = self.clock()
        refusal = self._waits(user, address, now)
        if refusal is not None:
            self.refused_total[refusal.scope] += 1
            return refusal
        horizon = now - self.policy.forget_after_s
        if self._addresses.get(address, _Address(last=now)).last <= horizon:
            del self._addresses[address]
        if self._accounts.get(user, _Account(last=now)).last <= horizon:
            del self._accounts[user]
        if len(self._addresses) >= self.policy.max_records or len(self._accounts) >= self.policy.max_records:
            self._forget_old(now)
        record = self._addresses.setdefault(address, _Address())
        account = self._accounts.setdefault(user, _Account())
        attempt = Attempt(user, address, record.last, account.last)
        record.failures += 1
        record.last = now
        account.by_address[address] = account.by_address.get(address, 0) + 1
        account.last = now
        return attempt

    def failed(self, attempt: Attempt) -> Refusal | None:
        """The secret was wrong: the try stays counted. The wait it started, if any (for the log)."""
        self.failures_total += 1
        return self._waits(attempt.user, attempt.address, self.clock())

    def succeeded(self, attempt: Attempt) -> None:
        """The secret was right: give the try back (it was counted when it started)."""
        address = self._addresses.get(attempt.address)
        if address is not None and address.failures > 0:
            address.failures -= 1
            address.last = attempt.address_last
            if address.failures == 0:
                del self._addresses[attempt.address]
        account = self._accounts.get(attempt.user)
        if account is not None and account.by_address.get(attempt.address, 0) > 0:
            account.by_address[attempt.address] -= 1
            account.last = attempt.account_last
            if account.by_address[attempt.address] == 0:
                del account.by_address[attempt.address]
            if not account.by_address:
                del self._accounts[attempt.user]

    def lift(self, *, user: str | None = None, address: str | None = None) -> bool:
        """Forget an account's or an address's failures (a manager's decision); whether there were any."""
        lifted = False
        if user is not None:
            lifted = self._accounts.pop(user, None) is not None
        if address is not None:
            lifted = self._addresses.pop(address, None) is not None or lifted
            for account in self._accounts.values():
                lifted = account.by_address.pop(address, None) is not None or lifted
        if lifted:
            self.lifted_total += 1
        return lifted

    def lockouts(self) -> dict[str, list[dict[str, object]]]:
        """Accounts and addresses with failures on record; wait_until is when the wait ends (0: none now)."""
        now = self.clock()
        horizon = now - self.policy.forget_after_s

        def ends(until: float) -> float:
            return until if until > now else 0.0

        accounts: list[dict[str, object]] = [
            {"user": user, "failures": record.failures(self.policy.address_free),
             "addresses": len(record.by_address), "wait_until": ends(self._account_wait_until(record))}
            for user, record in sorted(self._accounts.items()) if record.last > horizon
        ]
        addresses: list[dict[str, object]] = [
            {"address": address, "failures": record.failures,
             "wait_until": ends(self._address_wait_until(record))}
            for address, record in sorted(self._addresses.items()) if record.last > horizon
        ]
        return {"accounts": accounts, "addresses": addresses}

    def waiting(self) -> dict[str, int]:
        """How many accounts and addresses wait now."""
        now = self.clock()
        return {
            "account": sum(1 for r in self._accounts.values() if self._account_wait_until(r) > now),
            "address": sum(1 for r in self._addresses.values() if self._address_wait_until(r) > now),
        }


class LoginStats(Collector):
    """The guard's counts as Prometheus series.

        motcua_login_failures_total              log-ins with a wrong user name or secret
        motcua_login_refused_total{scope}        tries refused during a wait (address | account)
        motcua_login_lifts_total                 waits lifted by a manager
        motcua_login_waiting{scope}              addresses and accounts waiting now
    """

    def __init__(self, guard: LoginGuard) -> None:
        self.guard = guard

    def collect(self) -> Iterator[Metric]:
        guard = self.guard
        failures = CounterMetricFamily("motcua_login_failures", "Log-ins refused for a wrong user name or secret")
        failures.add_metric([], guard.failures_total)
        refused = CounterMetricFamily("motcua_login_refused", "Log-in tries refused (429) while their address or "
                                      "account waits after failures", labels=["scope"])
        for scope, n in sorted(guard.refused_total.items()):
            refused.add_metric([scope], n)
        lifts = CounterMetricFamily("motcua_login_lifts", "Log-in waits lifted by a manager")
        lifts.add_metric([], guard.lifted_total)
        waiting = GaugeMetricFamily("motcua_login_waiting", "Addresses and accounts that must wait before their "
                                    "next log-in", labels=["scope"])
        for scope, n in sorted(guard.waiting().items()):
            waiting.add_metric([scope], n)
        yield from (failures, refused, lifts, waiting)
