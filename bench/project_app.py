"""The project as the bench serves it: ``gunicorn bench.project_app:app`` with BENCH_DATABASE_URL set."""
from consultation import create_app

from .settings import from_environment

app = create_app(from_environment())
