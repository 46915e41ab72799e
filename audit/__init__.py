"""The audit log: who did what sensitive thing, to what, when and from where (issue 10)."""
