"""Roles and the principal: who is calling. Authorization for every domain starts here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    BUYER = "buyer"
    MERCHANT_OWNER = "merchant_owner"
    MERCHANT_AGENT = "merchant_agent"
    PLATFORM_AGENT = "platform_agent"
    PLATFORM_SUPERVISOR = "platform_supervisor"
    PLATFORM_ADMIN = "platform_admin"


MERCHANT_ROLES = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_AGENT})
PLATFORM_ROLES = frozenset({Role.PLATFORM_AGENT, Role.PLATFORM_SUPERVISOR, Role.PLATFORM_ADMIN})
STAFF_ROLES_ADMIN_MAY_CREATE = PLATFORM_ROLES

ROLE_LABELS = {
    Role.BUYER: "买家",
    Role.MERCHANT_OWNER: "店主",
    Role.MERCHANT_AGENT: "商家客服",
    Role.PLATFORM_AGENT: "平台客服",
    Role.PLATFORM_SUPERVISOR: "平台主管",
    Role.PLATFORM_ADMIN: "平台管理员",
}


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: Role
    store_id: int | None = None

    @property
    def is_buyer(self) -> bool:
        return self.role == Role.BUYER

    @property
    def is_merchant(self) -> bool:
        return self.role in MERCHANT_ROLES

    @property
    def is_store_owner(self) -> bool:
        return self.role == Role.MERCHANT_OWNER

    @property
    def is_platform(self) -> bool:
        return self.role in PLATFORM_ROLES

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN

    def works_for(self, store_id: int) -> bool:
        return self.is_merchant and self.store_id == store_id


SYSTEM_ROLE = "system"
