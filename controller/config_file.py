"""`motcua serve --config FILE.toml`: the serve flags kept in one file.

Every `motcua serve` flag has a key, its name with `_` for `-` (`--data-dir`
is `data_dir`); a flag given on the command line wins over the file, and
secrets stay in the environment (MOTCUA_MQTT_PASSWORD, MOTCUA_SMS_TOKEN, MOTCUA_ZNS_TOKEN), never
in the file. Relative paths are taken from the file's folder, as in site files.
The file is checked key by key before anything starts: an unknown key, a value
of the wrong type or a secret is refused with the file, the key and the reason,
Vietnamese first.

The keys are read from the serve parser itself, so a new flag is a new key
without a second list to keep in step.
"""

from __future__ import annotations

import argparse
import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["PATH_KEYS", "SECRET_KEYS", "ConfigError", "config_keys", "read_config", "serve_parser", "with_config"]

# keys whose value is a file or folder: relative to the config file's folder
PATH_KEYS: Final = frozenset({"site", "data_dir", "accounts_db", "mqtt_ca", "mqtt_cert", "mqtt_key"})
# key -> the environment variable that carries it instead
SECRET_KEYS: Final = {"mqtt_password": "MOTCUA_MQTT_PASSWORD", "sms_token": "MOTCUA_SMS_TOKEN",
                       "zns_token": "MOTCUA_ZNS_TOKEN"}
# flags that are not settings of a centre
_NOT_KEYS: Final = frozenset({"help", "config", "test_clock"})


class ConfigError(ValueError):
    """A configuration file that must stop start-up: which file, which key, why."""

    def __init__(self, source: str, key: str, reason_vi: str, reason_en: str) -> None:
        self.source = source
        self.key = key
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        super().__init__(
            f"tệp cấu hình {source}: khóa {key}: {reason_vi} / configuration file {source}: key {key}: {reason_en}"
        )


@dataclass(frozen=True, slots=True)
class _Key:
    name: str
    kind: type  # bool, int, float or str
    choices: tuple[str, ...] | None


def serve_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `serve` subcommand's parser inside the full `motcua` parser."""
    for action in parser._actions:  # argparse keeps subparsers here and offers no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["serve"]  # type: ignore[no-any-return]
    raise LookupError("the parser has no serve subcommand")


def config_keys(serve: argparse.ArgumentParser) -> dict[str, _Key]:
    """Every key a configuration file may hold, from the serve flags."""
    keys: dict[str, _Key] = {}
    for action in serve._actions:
        if action.dest in _NOT_KEYS or not action.option_strings:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            kind: type = bool
        elif action.type in (int, float):
            kind = action.type
        else:
            kind = str
        choices = tuple(str(c) for c in action.choices) if action.choices else None
        keys[action.dest] = _Key(action.dest, kind, choices)
    return keys


def _check_value(source: str, key: _Key, value: Any) -> Any:
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }[key.kind](value)
    if not ok:
        words = {bool: ("true hoặc false", "true or false"), int: ("một số nguyên", "an integer"),
                 float: ("một số", "a number"), str: ("một chuỗi trong ngoặc kép", "a quoted string")}[key.kind]
        raise ConfigError(source, key.name, f"phải là {words[0]}, không phải {value!r}",
                          f"must be {words[1]}, not {value!r}")
    if key.choices is not None and str(value) not in key.choices:
        allowed = ", ".join(key.choices)
        raise ConfigError(source, key.name, f"phải là một trong {allowed}, không phải {value!r}",
                          f"must be one of {allowed}, not {value!r}")
    return float(value) if key.kind is float else value


def read_config(path: Path, keys: Mapping[str, _Key]) -> dict[str, Any]:
    """The file's values by key, checked and with paths resolved; ConfigError naming file, key and reason."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(source, "-", "không có tệp này", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "-", f"không phải TOML hợp lệ ({exc})", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(source, "-", f"không đọc được ({exc.strerror})", f"cannot be read: {exc.strerror}") from None
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in SECRET_KEYS:
            env = SECRET_KEYS[name]
            raise ConfigError(source, name, f"bí mật không để trong tệp: đặt biến môi trường {env} "
                                            "(systemd: EnvironmentFile=/etc/motcua/secrets.env)",
                              f"secrets stay out of the file: set the environment variable {env}")
        key = keys.get(name.replace("-", "_"))
        if key is None:
            near = difflib.get_close_matches(name, keys, n=1)
            hint_vi = f"; có phải ý là {near[0]}?" if near else ""
            hint_en = f"; did you mean {near[0]}?" if near else ""
            raise ConfigError(source, name, f"không có khóa này{hint_vi}", f"unknown key{hint_en}")
        value = _check_value(source, key, value)
        if key.name in PATH_KEYS:
            value = str(path.parent / value) if value else value
        values[key.name] = value
    return values


def with_config(parser: argparse.ArgumentParser, argv: Sequence[str] | None, config: str) -> argparse.Namespace:
    """Parse argv again with the file's values as the serve defaults, so flags given still win."""
    serve = serve_parser(parser)
    serve.set_defaults(**read_config(Path(config), config_keys(serve)))
    return parser.parse_args(argv)
