"""Run the real `flask worker` (RQ worker, scheduler and outbox sweeper) in a process of its own, on the
test's database, Redis and PDF folder: ``python -m tests.worker_process`` with CONSULTATION_TEST_CONFIG set
to the app's configuration as JSON. Its log goes to standard output, which the tests keep in a file."""
from __future__ import annotations

import json
import os
import sys

from consultation import create_app
from consultation.cli import worker_command

if __name__ == "__main__":
    app = create_app(json.loads(os.environ["CONSULTATION_TEST_CONFIG"]))
    with app.app_context():  # as the `flask` command gives its commands
        worker_command.main(args=sys.argv[1:], standalone_mode=False)
