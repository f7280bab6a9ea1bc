"""The Django project around the crm_bridge app: settings and URLs."""
