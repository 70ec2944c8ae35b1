"""Configuration defaults; ``instance/config.py`` and the environment override them."""
from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Any

from .instance_folder import private_folder


class DefaultConfig:
    """Settings that hold for every installation unless overridden."""

    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL: str | None = None
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")
    DISPLAY_TIMEZONE = "Asia/Shanghai"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    SITE_NAME = "华城市规范性文件公开征求意见平台"
    # Issuing organs and the prefix of their document numbers (发文字号), e.g. 华政办发〔2026〕7号.
    ISSUING_ORGANS: dict[str, str] = {
        "华政发": "华城市人民政府",
        "华政办发": "华城市人民政府办公室",
    }
    WORKFLOWS_DIR: str | None = None
    PDF_DIR: str | None = None
    # Mail: with no MAIL_SERVER, messages are written as .eml files under MAIL_DIR (instance/mail).
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "华城市规范性文件公开征求意见平台 <noreply@huacheng.gov.cn>"
    MAIL_DIR: str | None = None
    SITE_URL: str | None = None  # the links in mails; unset: from HOST and PORT (./manage.sh serve)
    COMMENT_MAX_LENGTH = 5000
    # Scans of letters and meeting minutes (services/offline.py): each file at most this size, PDF or image; stored
    # owner-only under OFFLINE_ATTACHMENT_DIR (default instance/offline), never public.
    OFFLINE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    OFFLINE_ATTACHMENT_DIR: str | None = None
    COMMENT_MIN_SECONDS = 3  # a comment form posted sooner after it was served is taken for a bot
    # A long comment can take an afternoon to write: the form's token must outlive the default hour.
    WTF_CSRF_TIME_LIMIT = 24 * 3600
    RQ_JOB_TIMEOUT = 600  # seconds; RQ ends a job that runs longer
    RQ_RETRIES = 3
    RQ_RETRY_INTERVALS: list[int] = [10, 60, 300]  # seconds before the 2nd, 3rd and 4th attempt
    # Processes laying out a PDF's chunks (children of a fork server): 0 means one per CPU; 1 lays them out
    # in the job's own process.
    PDF_PROCESSES = 0
    JOB_HEARTBEAT_SECONDS = 5  # a running job writes its heartbeat this often
    JOB_STALE_SECONDS = 60  # a running job silent this long lost its worker (killed): it is queued again
    WORKER_SWEEP_SECONDS = 15  # how often a worker looks at the outbox and for jobs of dead workers
    WORKER_RECONNECT_MAX_SECONDS = 30  # a worker waiting for Redis tries again after 1 s, 2 s, … up to this
    UNAVAILABLE_RETRY_AFTER = 5  # seconds: the Retry-After of a 503 while the database or Redis is away
    OUTBOX_REQUEST_SWEEP_SECONDS = 30  # how often a web process looks at the outbox after a request
    # Mailings to many people (the commenters of a published draft) go out by the clock, in pages of
    # MAILING_BATCH recipients, at most MAILING_BATCHES_PER_TICK pages per sweep.
    MAILING_BATCH = 500
    MAILING_BATCHES_PER_TICK = 20
    PASSWORD_HASH_METHOD = "scrypt"
    # The library's topics (主题分类), after the State Council's classification of government information.
    LIBRARY_TOPICS = ["综合政务", "国民经济管理", "财政、金融、审计", "国土资源、能源", "农业、林业、水利", "工业、交通",
                      "商贸、海关、旅游", "市场监管、安全生产监管", "城乡建设、环境保护", "科技、教育", "文化、广电、新闻出版",
                      "卫生、体育", "人口与计划生育、妇女儿童工作", "劳动、人事、监察", "公安、安全、司法", "民政、扶贫、救灾",
                      "其他"]
    # Per client address (a keyed hash of it), shared by the comment form and the API. An office behind one
    # address can still send a hundred comments a day; a script cannot send thousands.
    COMMENT_RATE_LIMIT = "5 per minute; 30 per hour; 100 per day"
    RECEIPT_LOOKUP_RATE_LIMIT = "30 per minute; 300 per hour"
    # Subscription requests per client address (each one may mail a confirmation link).
    SUBSCRIBE_RATE_LIMIT = "5 per hour; 20 per day"
    # Receipts mailed to one address in 24 hours; later comments are kept, only their mail is skipped.
    RECEIPT_MAILS_PER_ADDRESS_PER_DAY = 10
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True  # Redis away: requests are served (the bot check still applies) ...
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # ... with per-process limits until Redis is back
    RATELIMIT_KEY_PREFIX = "consultation-limits"
    # Behind a reverse proxy: how many proxies set X-Forwarded-For (0: take the connecting address).
    PROXY_FIX_X_FOR = 0
    # Staff sign-in and sessions (docs/security.md). A session ends on the server after this long without a
    # request, and this long after sign-in whatever happens (a working day with overtime).
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    # Wrong passwords counted in Redis: per account from one client address (past it, that address waits; the
    # account's owner elsewhere does not), and per client address whatever the account.
    SIGN_IN_ACCOUNT_LIMIT = "5 per 15 minutes"
    SIGN_IN_ADDRESS_LIMIT = "30 per 15 minutes"
    PASSWORD_MIN_SCORE = 3  # zxcvbn's score (0 to 4) a new password needs
    # Cookies only over HTTPS: None follows the site (PREFERRED_URL_SCHEME = "https" or an https SITE_URL).
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_HTTPONLY = True
    HSTS_SECONDS = 365 * 24 * 3600  # Strict-Transport-Security on HTTPS answers (0: none)
    HSTS_INCLUDE_SUBDOMAINS = False  # only when every subdomain of the site's domain serves HTTPS
    # Site identity (政府网站发展指引, 国办发〔2017〕47号), shown in the footer of every page; the PDFs' footers
    # name the organiser. The environment overrides each (SITE_IDENTITY_SETTINGS); an empty value hides its line.
    SITE_ORGANISER = "华城市人民政府办公室"  # 主办单位
    SITE_OPERATOR = "华城市政务公开办公室"  # 承办单位
    SITE_CODE = "9901000001"  # 网站标识码, given by the national government-website register
    SITE_ICP = "华ICP备20260001号-1"  # ICP备案号, linked to beian.miit.gov.cn
    SITE_PSB = "华公网安备99010002000001号"  # 公安机关备案号, linked to beian.mps.gov.cn by its digits
    SITE_CONTACT = "联系电话：0571-87000000　电子邮箱：zhengqiu@demo.huacheng.gov.cn"
    SITE_CONAC_URL: str | None = None  # 党政机关 identifier: the site's page at bszs.conac.cn, where registered
    # Error reports (我要纠错) from the link in every page's footer: answered by the openness office within this
    # many working days (flagged on its queue this many working days before), limited per client address.
    ERROR_REPORT_ANSWER_WORKING_DAYS = 3
    ERROR_REPORT_WARN_WORKING_DAYS = 1
    ERROR_REPORT_RATE_LIMIT = "3 per hour; 10 per day"


SITE_IDENTITY_SETTINGS = ("SITE_ORGANISER", "SITE_OPERATOR", "SITE_CODE", "SITE_ICP", "SITE_PSB", "SITE_CONTACT",
                          "SITE_CONAC_URL")


def _secret_key(instance_path: Path) -> str:
    """Read the installation's secret key, generating it into instance/ on first run."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        private_folder(instance_path)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def finalize(config: dict[str, Any], instance_path: str) -> None:
    """Fill settings that depend on the instance folder and the environment."""
    instance = Path(instance_path)
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MAIL_SERVER", "MAIL_PORT", "SITE_URL",
                 *SITE_IDENTITY_SETTINGS):
        if os.environ.get(name):
            config[name] = os.environ[name]
    if config.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(config["DATABASE_URL"])
    config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'consultation.sqlite3'}"
    )
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(instance)
    config["WORKFLOWS_DIR"] = config.get("WORKFLOWS_DIR") or str(
        Path(__file__).resolve().parent.parent / "workflows"
    )
    config["PDF_DIR"] = config.get("PDF_DIR") or str(instance / "pdf")
    config["MAIL_DIR"] = config.get("MAIL_DIR") or str(instance / "mail")
    config["MAIL_PORT"] = int(config.get("MAIL_PORT") or 25)
    config.setdefault("EMBEDDED_REDIS_FILE", str(instance / "redis.rdb"))
    if str(config.get("REDIS_URL") or "").startswith("unix://") and not config.get("RATELIMIT_STORAGE_URI"):
        # A Redis on a Unix socket (./manage.sh serve's embedded one): the rate limiter's storage spells it so.
        config["RATELIMIT_STORAGE_URI"] = "redis+" + config["REDIS_URL"]
    config["SITE_URL"] = config.get("SITE_URL") or site_url(os.environ.get("HOST", ""), os.environ.get("PORT", ""))


def site_url(hosts: str, port: str) -> str:
    """The address of a server started with HOST and PORT as ./manage.sh takes them: the first host of the list
    (127.0.0.1 by default), the machine's name for a wildcard address, [brackets] around an IPv6 address."""
    host = (hosts.replace(",", " ").split() or ["127.0.0.1"])[0].strip("[]")
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port or 5000}"


def _normalise_db_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgres://`` URLs as hosting platforms hand them out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
