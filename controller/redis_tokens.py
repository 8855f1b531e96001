"""Bearer tokens in Redis, for controller processes that share it (--store redis://).

A token issued by one process is accepted by every other, and a logout (or a
user's revocation) takes effect everywhere at once: each request looks its token
up in Redis. Accounts and keys stay in each process's accounts file (argon2
hashes, configured alike on every process); a token carries the principal it
stands for, so checking one needs no account.

    {prefix}:token:{sha256 of the token}   hash name, role, site, counter, expires_at;
                                           expires with the token (PEXPIREAT)
    {prefix}:tokens-of:{user}              set of that user's token hashes (revoke_user)

Revoking deletes the token's hash: a revoked token and an unknown one look the same.
The calls are synchronous, as the account store's are (the auth checks are), with
short timeouts: a Redis that does not answer makes the request fail with 503
store_unavailable rather than hang.
"""

from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from controller.accounts import Principal, token_hash
from controller.store.base import StoreError
from controller.store.redis_keys import DEFAULT_PREFIX

__all__ = ["RedisTokens"]

TIMEOUT_S = 1.0


class RedisTokens:
    """A TokenBook in Redis, shared by every process of a deployment."""

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX, *, owns_client: bool = False) -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = owns_client

    @classmethod
    def connect(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisTokens:
        """A book on `redis://host:port/db` (connects on first use)."""
        client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
        return cls(client, prefix, owns_client=True)

    def _token_key(self, digest: str) -> str:
        return f"{self.prefix}:token:{digest}"

    def _user_key(self, name: str) -> str:
        return f"{self.prefix}:tokens-of:{name}"

    def issue(self, token: str, principal: Principal) -> None:
        assert principal.expires_at is not None, "a token has an expiry"
        digest = token_hash(token)
        expires_ms = int(principal.expires_at * 1000)
        fields: dict[FieldT, EncodableT] = {
            "name": principal.name,
            "role": principal.role,
            "site": principal.site,
            "counter": "" if principal.counter is None else str(principal.counter),
            "expires_at": repr(principal.expires_at),
        }
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(self._token_key(digest), mapping=fields)
                pipe.pexpireat(self._token_key(digest), expires_ms)
                pipe.sadd(self._user_key(principal.name), digest)
                # the index lives as long as the newest token it lists (every token lives as long)
                pipe.pexpireat(self._user_key(principal.name), expires_ms)
                pipe.execute()
        except RedisError as exc:
            raise StoreError(f"token store: {exc}") from exc

    def principal(self, token: str, now: float) -> Principal | None:
        try:
            raw = self.client.hgetall(self._token_key(token_hash(token)))
        except RedisError as exc:
            raise StoreError(f"token store: {exc}") from exc
        if not raw:
            return None
        row = {_text(k): _text(v) for k, v in raw.items()}
        expires_at = float(row["expires_at"])
        if expires_at <= now:
            return None
        counter = int(row["counter"]) if row["counter"] else None
        return Principal(row["name"], row["role"], row["site"], counter, expires_at)

    def revoke(self, token: str) -> bool:
        digest = token_hash(token)
        key = self._token_key(digest)
        try:
            name = self.client.hget(key, "name")
            removed = int(self.client.delete(key))
            if name is not None:
                self.client.srem(self._user_key(_text(name)), digest)
        except RedisError as exc:
            raise StoreError(f"token store: {exc}") from exc
        return removed > 0

    def revoke_user(self, name: str) -> int:
        try:
            digests = [_text(d) for d in self.client.smembers(self._user_key(name))]
            removed = int(self.client.delete(*(self._token_key(d) for d in digests))) if digests else 0
            self.client.delete(self._user_key(name))
        except RedisError as exc:
            raise StoreError(f"token store: {exc}") from exc
        return removed

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
