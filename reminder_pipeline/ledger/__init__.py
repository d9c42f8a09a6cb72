"""The ledger: the system of record for customers, invoices, payments, disputes and quarantine."""
