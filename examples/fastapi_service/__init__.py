"""A FastAPI host app over crmkit: see README.md in this folder, and ``app.create_app``."""
