"""The fast layer: the reference server's signalling rules, in process (aiohttp's test client against its app)."""
