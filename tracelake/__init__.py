"""tracelake: the shared core (settings, rules, identity, lake layout, validation) and the CLI."""

__version__ = "0.1.0"
