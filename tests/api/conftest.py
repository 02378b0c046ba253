import pytest
from rest_framework.test import APIClient

from core.services import api_client_create


@pytest.fixture
def erp(db):
    """An API client holding the master-data and sales write scopes."""

    def make(scopes=("master:write", "sales:write"), name="erp-test", **kwargs):
        client, token = api_client_create(name=name, scopes=list(scopes), **kwargs)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        api.client_record = client
        return api

    return make


@pytest.fixture
def api(erp):
    return erp()
