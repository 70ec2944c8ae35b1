# Copy to instance/config.py and adjust. Environment variables DATABASE_URL, REDIS_URL, SECRET_KEY,
# MAIL_SERVER, MAIL_PORT and SITE_URL override what is set here. CONSULTATION_INSTANCE names another
# instance folder (production: /var/lib/consultation; docs/deployment.md). The folder and all it holds are
# kept owner-only (0700 / 0600).
# DATABASE_URL = "postgresql+psycopg://consultation@127.0.0.1:5432/consultation"
# REDIS_URL = "redis://127.0.0.1:6379/0"
# SITE_NAME = "华城市规范性文件公开征求意见平台"
# The links in notification mails. Unset, it follows HOST and PORT as ./manage.sh serve takes them
# (http://127.0.0.1:5000); set it in production, where the site is behind TLS (docs/security.md).
# SITE_URL = "https://zqyj.huacheng.gov.cn"
# ISSUING_ORGANS = {"华政发": "华城市人民政府", "华政办发": "华城市人民政府办公室"}
# PDF_DIR = "/var/lib/consultation/pdf"
#
# Mail: without MAIL_SERVER, notifications are written as .eml files under MAIL_DIR (instance/mail/).
# MAIL_SERVER = "smtp.huacheng.gov.cn"
# MAIL_PORT = 587
# MAIL_USE_STARTTLS = True
# MAIL_USERNAME = "zqyj"
# MAIL_PASSWORD = "..."
# MAIL_SENDER = "华城市规范性文件公开征求意见平台 <noreply@huacheng.gov.cn>"
#
# Background jobs (seconds): retries and their pauses, the job timeout, the heartbeat and when a silent
# job is taken for lost, how often each worker sweeps the outbox and the clock.
# RQ_RETRIES = 3
# RQ_RETRY_INTERVALS = [10, 60, 300]
# RQ_JOB_TIMEOUT = 600
# JOB_HEARTBEAT_SECONDS = 5
# JOB_STALE_SECONDS = 60
# WORKER_SWEEP_SECONDS = 15
#
# Sign-in and sessions (docs/security.md): sessions end after SESSION_IDLE_MINUTES without activity and
# SESSION_MAX_HOURS after sign-in; wrong passwords are limited per account and per address.
# SESSION_IDLE_MINUTES = 30
# SESSION_MAX_HOURS = 12
# SIGN_IN_ACCOUNT_LIMIT = "5 per 15 minutes"
# SIGN_IN_ADDRESS_LIMIT = "30 per 15 minutes"
# Behind TLS: cookies only over HTTPS (None: on when SITE_URL is https or PREFERRED_URL_SCHEME = "https"), and
# Strict-Transport-Security on HTTPS answers.
# PREFERRED_URL_SCHEME = "https"
# SESSION_COOKIE_SECURE = True
# HSTS_SECONDS = 31536000
# Behind a reverse proxy: how many proxies set X-Forwarded-For / X-Forwarded-Proto (0: none, the default).
# PROXY_FIX_X_FOR = 1
#
# The audit trail's signing key, outside the database (docs/audit.md); checkpoints daily and at publication.
# AUDIT_SIGNING_KEY_FILE = "/etc/consultation/audit_signing_key.pem"
