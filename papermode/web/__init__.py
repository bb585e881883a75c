"""The local review web app (Starlette + Jinja2, no external assets)."""
