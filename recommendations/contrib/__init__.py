"""Integrations with shop frameworks, each an app the host adds (the core never imports them)."""
