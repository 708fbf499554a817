"""Personalised product recommendations for any Django shop."""

__version__ = "0.1.0"
