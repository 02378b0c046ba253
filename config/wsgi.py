import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, pandas, the apps) lives as long as the process: keep it
# out of the cyclic collector's generations so a full collection does not walk it again.
gc.collect()
gc.freeze()
