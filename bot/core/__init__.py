"""The pure core: program rules as plain data in, plain data out. Never imports discord."""
