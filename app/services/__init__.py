"""Write side: one function per use case, each one transaction that writes ledger movements."""
