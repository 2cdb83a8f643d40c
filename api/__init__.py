"""api: the HTTP face (FastAPI) of dianmian."""
