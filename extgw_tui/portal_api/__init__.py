"""The portal's HTTP door: a JSON API (Starlette on uvicorn) over the same services as the app.

Layer 4, beside app.py and cli.py: every decision is made in extgw_tui/services/; this package
only turns HTTP into service calls and their results into JSON, off the event loop.
"""
