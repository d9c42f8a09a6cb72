"""Features as known on a day: per invoice, from the customer's history up to that day only."""
