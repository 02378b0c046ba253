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


def test_home_shows_a_rep_only_their_own_figures(demo, login):
    from territories.models import Account

    rep = get_user_model().objects.get(username="rep1")
    own = Account.objects.for_user(rep).count()
    assert 0 < own < Account.objects.count()
    page = login("rep1").get("/")
    assert page.context["figures"]["accounts"] == own
    assert "your own accounts" in page.content.decode()


def test_logout_ends_the_session(demo, login):
    client = login("planner")
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_home_query_count_does_not_grow_with_data(demo, login, django_assert_max_num_queries):
    client = login("manager")
    with django_assert_max_num_queries(25):
        assert client.get("/").status_code == 200


def test_home_shows_a_rep_their_own_pay_and_nobody_elses(demo, login):
    from compensation.models import Statement

    page = login("rep1").get("/")
    shown = [s["id"] for s in page.context["pay"]["statements"]]
    assert shown and set(Statement.objects.filter(pk__in=shown).values_list("rep__username", flat=True)) == {"rep1"}
    assert login("manager").get("/").context["pay"] is None
    assert login("ops").get("/").context["pay"] is None


def test_home_shows_ops_the_open_alerts_and_runs(demo, login):
    from sop.services import plan_run_create, plan_run_execute

    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    context = login("ops").get("/").context
    assert context["runs"]["plan"] is not None
    from sop.models import CapacityAlert

    open_alerts = CapacityAlert.objects.exclude(status="resolved")
    assert context["alerts"]["critical"] == open_alerts.filter(severity="critical").count()
    assert login("rep1").get("/").context["alerts"] is None


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
