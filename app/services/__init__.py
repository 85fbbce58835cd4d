"""Application services: plain asyncio, no Qt (the UI adapts them)."""
