"""Sign-in, the role-aware home page and access denials."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.roles import ROLES, user_roles
from tests.conftest import AS_OF

DEMO_USERS = ["admin", "manager", "rep1", "planner", "ops", "exec"]


@pytest.mark.django_db
def test_roles_exist_as_groups_after_migrate():
    from django.contrib.auth.models import Group

    assert set(ROLES) <= set(Group.objects.values_list("name", flat=True))


@pytest.mark.parametrize("path", ["/", "/admin/"])
def test_anonymous_users_are_sent_to_login(client, path, db):
    response = client.get(path)
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("username", DEMO_USERS)
def test_each_demo_user_signs_in_with_password_demo_and_sees_home(demo, username):
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": "demo"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    role_labels = [str(ROLES[c]) for c in user_roles(get_user_model().objects.get(username=username))]
    for label in role_labels:
        assert label in page.content.decode()


def test_wrong_password_is_refused(demo):
    response = Client().post("/accounts/login/", {"username": "rep1", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_admin_site_opens_for_admin_only(demo, login):
    assert login("admin").get("/admin/").status_code == 200
    rep_response = login("rep1").get("/admin/")
    assert rep_response.status_code == 302 and "/admin/login/" in rep_response["Location"]


def test_home_shows_a_rep_only_their_own_accounts(demo, login):
    from territories.models import Account

    rep = get_user_model().objects.get(username="rep1")
    own = set(Account.objects.for_user(rep).values_list("id", flat=True))
    assert 0 < len(own) < Account.objects.count()
    page = login("rep1").get("/")
    assert {a["id"] for a in page.context["accounts"]} <= own


def test_logout_ends_the_session(demo, login):
    client = login("planner")
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


# The home's query budget per role, as the data grows: tests/dashboards/test_pages.py.


def test_home_shows_a_rep_their_own_pay_and_nobody_elses(demo, login):
    from compensation.models import Statement

    page = login("rep1").get("/")
    shown = page.context["statement"]["id"]
    assert Statement.objects.get(pk=shown).rep.username == "rep1"
    assert "statement" not in login("manager").get("/").context
    assert "statement" not in login("ops").get("/").context


def test_home_shows_ops_the_open_alerts_and_runs(demo, login):
    from sop.services import plan_run_create, plan_run_execute

    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    context = login("ops").get("/").context
    assert context["plan_run"] is not None
    from sop.models import CapacityAlert

    open_alerts = CapacityAlert.objects.exclude(status="resolved")
    assert context["chart"]["severity"]["facts"]["critical"] == open_alerts.filter(severity="critical").count()
    assert "severity" not in login("rep1").get("/").context["chart"]


def test_403_and_404_pages_are_styled_with_the_navigation(demo, login):
    """Issue 16: bare unstyled 403/404 pages."""
    rep = login("rep1")
    denied = rep.get("/supply/capacity/")
    assert denied.status_code == 403
    html = denied.content.decode()
    assert "css/app.css" in html and 'class="mainnav"' in html and "You cannot open this page" in html
    missing = rep.get("/no-such-page/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert "css/app.css" in html and 'class="mainnav"' in html and "/no-such-page/" in html
