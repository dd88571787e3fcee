"""kefu (客服): open-source customer service for online marketplaces."""

__version__ = "0.1.0"
