"""Structured logs: one JSON object per line (or readable console lines in development)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRETS = (re.compile(r"(token=)[^&\s\"']+"), re.compile(r"(/invite/)[^\s/?\"']+"))


def _redact(text: str) -> str:
    for pattern in _SECRETS:
        text = pattern.sub(r"\1***", text)
    return text


def redact_secrets(_logger: object, _name: str, event_dict: MutableMapping[str, Any]
                   ) -> MutableMapping[str, Any]:
    """Bearer tokens in WebSocket URLs and invitation links never reach the logs."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = _redact(value)
        elif key == "positional_args" and isinstance(value, tuple):
            event_dict[key] = tuple(_redact(v) if isinstance(v, str) else v for v in value)
    return event_dict


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        redact_secrets,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # we log requests ourselves


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
