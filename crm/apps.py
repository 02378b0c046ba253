from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        # The plan (sop) sits below the CRM: it is handed callbacks for what it must show or raise.
        # Imported here: the hooks load models, which exist only once the registry is ready.
        from crm import hooks

        hooks.connect()
