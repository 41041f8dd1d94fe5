import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
application = get_wsgi_application()

# While the key the register was written with is missing or another one, every request is
# answered 503 with the sentence saying what to do (taizhang.operations.keys).
from taizhang.operations.keys import guard  # noqa: E402

application = guard(application)
