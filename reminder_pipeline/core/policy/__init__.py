"""The reminder policy: how customers are segmented (and, later, which ladder each segment gets)."""
