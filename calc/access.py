"""Who is asking: the principal every store read takes, and what each role may see.

Four roles (issue 11):

- ``executive`` and ``analyst`` see everything;
- ``admin`` sees everything and also loads feeds, closes months and manages users;
- ``assignee`` is bound to one Assignee: its own Portions, payments and collateral, and
  the portfolio-level totals its stream depends on; never another assignee's name,
  Portions or purchase price.

A :class:`Principal` is plain data: the store filters its reads by it (in SQL), the
dashboard and the command line build it from a sign-in or from the operating-system user.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

ROLE_EXECUTIVE = "executive"
ROLE_ANALYST = "analyst"
ROLE_ADMIN = "admin"
ROLE_ASSIGNEE = "assignee"
USER_ROLES = (ROLE_EXECUTIVE, ROLE_ANALYST, ROLE_ADMIN, ROLE_ASSIGNEE)
# Roles that see every party's rows.
ROLES_SEEING_ALL = (ROLE_EXECUTIVE, ROLE_ANALYST, ROLE_ADMIN)


class AccessDenied(PermissionError):
    """The principal may not do or read this."""


@dataclass(frozen=True)
class Principal:
    """A signed-in user (or the command line's operator): name, role and, for the
    ``assignee`` role, the one Assignee (party name as in the feed) it is bound to."""

    name: str
    role: str
    assignee: str | None = None

    def __post_init__(self) -> None:
        if self.role not in USER_ROLES:
            raise ValueError(f"unknown role {self.role!r}; one of {', '.join(USER_ROLES)}")
        if self.role == ROLE_ASSIGNEE and not self.assignee:
            raise ValueError("a principal with the assignee role is bound to one assignee")
        if self.role != ROLE_ASSIGNEE and self.assignee:
            raise ValueError(f"only the assignee role is bound to an assignee, not {self.role!r}")

    @property
    def sees_all(self) -> bool:
        """True when every party's rows are visible (not an assignee)."""
        return self.role in ROLES_SEEING_ALL

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    def require_admin(self, what: str) -> None:
        """AccessDenied unless this principal is an admin (loads, closes, user management)."""
        if not self.is_admin:
            raise AccessDenied(f"{what} is for an admin; {self.name} is {self.role}")

    @classmethod
    def operator(cls) -> Principal:
        """The command line's operator: an admin named after the operating-system user
        (whoever can run ``python -m calc`` against the database owns it)."""
        try:
            user = getpass.getuser()
        except Exception:  # no user name in a bare container
            user = "unknown"
        return cls(name=f"cli:{user}", role=ROLE_ADMIN)


__all__ = [
    "ROLES_SEEING_ALL",
    "ROLE_ADMIN",
    "ROLE_ANALYST",
    "ROLE_ASSIGNEE",
    "ROLE_EXECUTIVE",
    "USER_ROLES",
    "AccessDenied",
    "Principal",
]
