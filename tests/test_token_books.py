"""One contract for the token books: in the accounts file (SQLite) and in Redis (shared by processes)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from controller.accounts import TOKEN_TTL_S, AccountStore, Principal, SqliteTokens
from controller.redis_tokens import RedisTokens
from controller.store.base import StoreError
from tests.services import free_port, redis_server

FAST = PasswordHasher(time_cost=1, memory_cost=8192)
# now, not a fixed date: Redis expires a token's key by its own clock
NOW = time.time()


@pytest.fixture(params=["sqlite", "redis"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    with contextlib.ExitStack() as stack:
        tokens = None
        if request.param == "redis":
            request.applymarker(pytest.mark.integration)
            server = stack.enter_context(redis_server(tmp_path))
            tokens = RedisTokens.connect(server.url)
        store = AccountStore(tmp_path / "accounts.db", FAST, tokens)
        stack.callback(store.close)
        store.add_account("quay3", "staff", "1234", site="xa", counter=3)
        store.add_account("quanly", "manager", "demo", "*")
        yield store


def test_a_token_stands_for_its_principal_until_it_expires(accounts: AccountStore) -> None:
    issued = accounts.login("quay3", "1234", now=NOW)
    assert issued is not None
    token, principal = issued
    assert principal == Principal("quay3", "staff", "xa", 3, NOW + TOKEN_TTL_S)
    assert accounts.principal(token, now=NOW + 60) == principal
    assert accounts.principal(token, now=NOW + TOKEN_TTL_S) is None
    assert accounts.principal("not-a-token", now=NOW) is None
    assert accounts.login("quay3", "wrong", now=NOW) is None


def test_revoking_one_token_or_every_token_of_a_user(accounts: AccountStore) -> None:
    logins = [accounts.login("quay3", "1234", now=NOW) for _ in range(3)]
    manager = accounts.login("quanly", "demo", now=NOW)
    assert manager is not None and all(logins)
    tokens = [pair[0] for pair in logins if pair is not None]
    assert accounts.revoke(tokens[0]) is True
    assert accounts.revoke(tokens[0]) is False  # already gone
    assert accounts.principal(tokens[0], now=NOW) is None
    assert accounts.principal(tokens[1], now=NOW) is not None
    assert accounts.revoke_user("quay3") == 2
    assert all(accounts.principal(t, now=NOW) is None for t in tokens)
    assert accounts.principal(manager[0], now=NOW) is not None  # others untouched


def test_tokens_are_kept_by_hash_only(accounts: AccountStore, tmp_path: Path) -> None:
    issued = accounts.login("quanly", "demo", now=NOW)
    assert issued is not None
    if isinstance(accounts.tokens, SqliteTokens):
        assert issued[0].encode() not in (tmp_path / "accounts.db").read_bytes()
    else:
        assert isinstance(accounts.tokens, RedisTokens)
        client = accounts.tokens.client
        stored = b"".join(k + b"".join(client.hvals(k)) for k in client.keys("motcua:token:*"))
        assert stored and issued[0].encode() not in stored


def test_a_redis_that_does_not_answer_is_a_store_error(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts.db", FAST, RedisTokens.connect(f"redis://127.0.0.1:{free_port()}/0"))
    store.add_account("quanly", "manager", "demo", "*")
    try:
        with pytest.raises(StoreError):
            store.login("quanly", "demo")
        with pytest.raises(StoreError):
            store.principal("whatever")
    finally:
        store.close()
