"""Exceptions every part of Calipso may raise and the command line turns into clear messages."""


class CalipsoError(Exception):
    """Base of Calipso's own errors: the message is meant for the user, as it is."""


class ConfigError(CalipsoError):
    """A setting is missing or invalid; the message names the variable and what is expected."""


class StoreUnavailable(CalipsoError):
    """MongoDB or Neo4j cannot be reached (or refused our credentials)."""
