# gunicorn reads this file when started from the project root (`make serve`):
# its own error answers (an over-long request line, bytes that are not HTTP)
# come in the API's JSON error shape, like every other error (api/server.py).
worker_class = "api.server.SyncWorker"

# its logs never hold an API key, even one a client sent as a Basic user or in the
# query string (api/accesslog.py)
logger_class = "api.accesslog.AccessLogger"
