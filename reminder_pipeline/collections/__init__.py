"""What collectors do from the dashboard: log in (users and roles) and act on a customer (pause, resume,
dispute, promise to pay, call), each action written to the ledger and audited with who and when."""
