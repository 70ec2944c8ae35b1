"""Run the real `flask worker` (RQ worker, scheduler and outbox sweeper) in a process of its own, on the
test's database, Redis and PDF folder: ``python -m tests.worker_process`` with CONSULTATION_TEST_CONFIG set
to the app's configuration as JSON."""
from __future__ import annotations

import json
import os
import sys

from consultation import create_app

if __name__ == "__main__":
    app = create_app(json.loads(os.environ["CONSULTATION_TEST_CONFIG"]))
    with app.app_context():  # as the `flask` command gives its commands
        result = app.test_cli_runner().invoke(args=["worker", *sys.argv[1:]])
    sys.stdout.write(result.output)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    sys.exit(result.exit_code)
