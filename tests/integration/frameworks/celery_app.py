"""Tasks for the Celery end-to-end test. The worker imports this module
(`celery -A celery_app worker`) with CELERY_TEST_URL naming the server; the
test builds its own app on the same URL with make_app."""
import os
import time

import redis
from celery import Celery

VISIBILITY_TIMEOUT = 3


def make_app(url):
    app = Celery("celery_app", broker=url, backend=url)
    app.conf.broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    app.conf.broker_connection_retry_on_startup = True
    counters = redis.Redis.from_url(url)

    @app.task(name="celery_app.add")
    def add(a, b):
        return a + b

    @app.task(name="celery_app.flaky", bind=True, max_retries=5)
    def flaky(self, key, failures):
        """Fails `failures` times (retrying), then returns its attempt count."""
        attempt = counters.incr(key)
        if attempt <= failures:
            raise self.retry(countdown=0.2)
        return attempt

    @app.task(name="celery_app.stall_once", acks_late=True)
    def stall_once(key):
        """Hangs on its first run (the worker is killed meanwhile) and
        returns at once when delivered again."""
        attempt = counters.incr(key)
        if attempt == 1:
            time.sleep(120)
        return "done after %d runs" % attempt

    return app


app = make_app(os.environ.get("CELERY_TEST_URL", "redis://127.0.0.1:6379/0"))
