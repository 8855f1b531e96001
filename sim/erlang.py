"""Erlang C for the simulator's bound: the functions live in the core (controller/core/erlang.py)."""

from controller.core.erlang import erlang_b, erlang_c, pooled_within, wait_within

__all__ = ["erlang_b", "erlang_c", "pooled_within", "wait_within"]
