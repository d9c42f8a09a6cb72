"""The statement run: a billing cycle day's statements of account planned, written and put in the outbox."""
