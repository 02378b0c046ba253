from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        # The plan (sop) sits below the CRM: it is handed callbacks for what it must show or raise.
        from crm import hooks

        hooks.connect()
