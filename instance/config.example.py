# Copy to instance/config.py and adjust. Environment variables DATABASE_URL, REDIS_URL and
# SECRET_KEY override what is set here.
# DATABASE_URL = "postgresql+psycopg://consultation@127.0.0.1:5432/consultation"
# REDIS_URL = "redis://127.0.0.1:6379/0"
# SITE_NAME = "华城市规范性文件公开征求意见平台"
# ISSUING_ORGANS = {"华政发": "华城市人民政府", "华政办发": "华城市人民政府办公室"}
# PDF_DIR = "/var/lib/consultation/pdf"
