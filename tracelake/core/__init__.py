"""The small shared core every stage imports: settings, rules, identity, events, the lake's layout and the vault.
It imports no stage."""
