"""Every table, imported in one place for Alembic and for tests."""

from kefu.accounts import models as accounts_models
from kefu.autoreply import models as autoreply_models
from kefu.chat import models as chat_models
from kefu.deposit import models as deposit_models
from kefu.diversion import models as diversion_models
from kefu.kit import models as kit_models
from kefu.kit.db import Base
from kefu.marketplace import models as marketplace_models
from kefu.notifications import models as notifications_models

__all__ = [
    "Base",
    "accounts_models",
    "autoreply_models",
    "chat_models",
    "deposit_models",
    "diversion_models",
    "kit_models",
    "marketplace_models",
    "notifications_models",
]
