"""Retention (CONTRACT.md section 3): personal data older than the rules' `retention_days` is purged.

`jobs.retention.purge.purge` deletes and records; `needed` decides which old
raw rows a trace inside the window still reads; `identities` prunes the vault.
"""
