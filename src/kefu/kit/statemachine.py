"""Explicit state machines: a table of allowed transitions, checked before every change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kefu.kit.errors import Forbidden, InvalidTransition, _


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


def transition(action: str, sources: Iterable[str], target: str, roles: Iterable[str]) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles))


class StateMachine:
    def __init__(self, name: str, states: Iterable[str], transitions: Iterable[Transition]):
        self.name = name
        self.states = frozenset(states)
        self.transitions = tuple(transitions)
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - self.states
            if unknown:
                raise ValueError(f"{name}: unknown states {sorted(unknown)} in {t.action}")
        self._by_action: dict[str, list[Transition]] = {}
        for t in self.transitions:
            self._by_action.setdefault(t.action, []).append(t)

    def check(self, action: str, current: str, role: str) -> Transition:
        """The transition ``action`` from ``current`` for ``role``, or a domain error."""
        candidates = [t for t in self._by_action.get(action, []) if current in t.sources]
        if not candidates:
            raise InvalidTransition(_("当前状态「{state}」不能执行此操作"), state=current)
        for t in candidates:
            if role in t.roles:
                return t
        raise Forbidden(_("您没有权限执行此操作"))

    def allowed_actions(self, current: str, role: str) -> list[str]:
        return [t.action for t in self.transitions if current in t.sources and role in t.roles]

    def is_terminal(self, state: str) -> bool:
        return not any(state in t.sources for t in self.transitions)
