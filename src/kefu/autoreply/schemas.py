"""Auto-reply shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SettingsIn(BaseModel):
    welcome_enabled: bool = True
    welcome_text: str = Field(default="", max_length=500)
    faq_enabled: bool = True
    keywords_enabled: bool = True
    off_hours_enabled: bool = True
    off_hours_text: str = Field(default="", max_length=500)
    after_sales_pointer_enabled: bool = True


class SettingsOut(SettingsIn):
    model_config = ConfigDict(from_attributes=True)

    store_id: int
    updated_at: datetime


class RuleIn(BaseModel):
    kind: str = Field(pattern="^(faq|keyword)$")
    question: str = Field(default="", max_length=200)
    answer: str = Field(min_length=1, max_length=1000)
    examples: list[str] = Field(default_factory=list, max_length=30)
    keywords: list[str] = Field(default_factory=list, max_length=20)
    product_ids: list[int] = Field(default_factory=list, max_length=50)
    enabled: bool = True
    intent: str | None = Field(default=None, max_length=64)


class RuleOut(RuleIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    store_id: int
    updated_at: datetime


class TryIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)
    product_id: int | None = None


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=500)
