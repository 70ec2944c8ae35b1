"""gunicorn settings for the web server: the systemd unit (deploy/systemd/consultation-web.service) and
./manage.sh serve load this file; options on the command line win over it.

The environment adjusts it: CONSULTATION_BIND, the addresses to listen on separated by spaces (by default the
IPv4 and the IPv6 loopback, for a TLS proxy on the same machine; "[::]:5000" alone listens on every address
over IPv4 and IPv6 where net.ipv6.bindv6only is 0, Linux's default), and WEB_CONCURRENCY, the number of
worker processes (gunicorn reads it itself).
"""
import multiprocessing
import os

bind = os.environ.get("CONSULTATION_BIND", "127.0.0.1:5000 [::1]:5000").split()
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
timeout = 60  # a request never takes this long: PDFs and mails are made by the workers
graceful_timeout = 20  # a stop lets running requests finish this long
accesslog = "-"  # to standard output: the journal under systemd
# A worker process is replaced after this many requests (spread so that they do not all restart at once): what
# a large upload's parse left in its memory is given back.
max_requests = 1000
max_requests_jitter = 100
# gunicorn 25 and later open a control socket in the home folder, one path for every server of the account:
# not wanted here (gunicorn 23 and 24 ignore the setting).
control_socket_disable = True
