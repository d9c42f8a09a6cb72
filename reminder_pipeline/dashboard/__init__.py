"""The collections dashboard's data: what the ledger says about receivables, customers and reminders,
read with aggregated SQL into a snapshot that pages filter, sort and page through, and the figures a
finance team watches (outstanding, overdue, DSO, CEI, aging, reminder outcomes)."""
