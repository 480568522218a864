"""Admins list teams with member counts, create, rename and describe them, and see who is in each."""

import re
import threading
import time

import sqlalchemy as sa

from portal.accounts import services
from portal.accounts.models import Team
from portal.core.db import db


def _team_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Team.name).order_by(Team.name)))


def test_team_list_counts_active_and_deactivated_members(admin_client, make_user, make_team):
    make_team("Finance", "Invoices and reconciliation.")
    make_team("Empty Team")
    make_user(name="Fiona", team="Finance")
    leaver = make_user(name="Leaver", team="Finance")
    make_user(name="Loner")
    admin_client.post(f"/admin/users/{leaver.id}/deactivate")

    html = admin_client.get("/admin/teams").get_data(as_text=True)
    assert "Finance" in html and "Invoices and reconciliation." in html
    finance_row = html[html.index(">Finance<") : html.index("</tr>", html.index(">Finance<"))]
    assert '<td class="text-end">1</td>' in finance_row  # one active, one deactivated
    assert finance_row.count('<td class="text-end">1</td>') == 2
    empty_row = html[html.index(">Empty Team<") : html.index("</tr>", html.index(">Empty Team<"))]
    assert empty_row.count('<td class="text-end">0</td>') == 2
    # The admin and Loner have no team.
    assert "2 active people have no team" in html


def test_team_list_empty_state(admin_client):
    html = admin_client.get("/admin/teams").get_data(as_text=True)
    assert "No teams yet" in html and "Create the first team" in html


def test_admin_creates_a_team(app, admin_client):
    assert admin_client.get("/admin/teams/new").status_code == 200
    response = admin_client.post(
        "/admin/teams/new", data={"name": "  Claims Operations ", "description": "Claims."}
    )
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Team Claims Operations created." in page
    assert "Nobody in this team yet" in page
    assert _team_names(app) == ["Claims Operations"]


def test_duplicate_or_missing_team_name_is_refused_beside_the_field(app, admin_client, make_team):
    make_team("Finance")
    response = admin_client.post(
        "/admin/teams/new", data={"name": "finance", "description": "typed text"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A team with this name already exists." in html
    assert "typed text" in html
    missing = admin_client.post("/admin/teams/new", data={"name": "  ", "description": ""})
    assert missing.status_code == 400
    assert _team_names(app) == ["Finance"]


def test_admin_renames_and_describes_a_team(app, admin_client, make_team):
    team = make_team("Fin", "old")
    form = admin_client.get(f"/admin/teams/{team.id}/edit").get_data(as_text=True)
    assert 'value="Fin"' in form and re.search(r">\s*old</textarea>", form)
    response = admin_client.post(
        f"/admin/teams/{team.id}/edit", data={"name": "Finance", "description": "Invoices."}
    )
    assert response.status_code == 302
    page = admin_client.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert "Finance" in page and "Invoices." in page
    assert _team_names(app) == ["Finance"]


def test_rename_to_another_teams_name_is_refused(app, admin_client, make_team):
    make_team("Finance")
    other = make_team("Support")
    response = admin_client.post(
        f"/admin/teams/{other.id}/edit", data={"name": "FINANCE", "description": ""}
    )
    assert response.status_code == 400
    assert "A team with this name already exists." in response.get_data(as_text=True)
    assert _team_names(app) == ["Finance", "Support"]
    # Changing only the case of its own name is fine.
    assert (
        admin_client.post(
            f"/admin/teams/{other.id}/edit", data={"name": "SUPPORT", "description": ""}
        ).status_code
        == 302
    )


def test_team_page_lists_its_members(admin_client, make_user, make_team):
    team = make_team("Support")
    make_user("owner", name="Olivia Owner", team="Support")
    make_user(name="Rosa Reporter", team="Support")
    make_user(name="Elsewhere")
    html = admin_client.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert "Olivia Owner" in html and "Rosa Reporter" in html
    assert "Elsewhere" not in html
    assert "Agent owner" in html


def test_missing_team_is_404(admin_client):
    assert admin_client.get("/admin/teams/999").status_code == 404
    assert admin_client.get("/admin/teams/999/edit").status_code == 404
    assert admin_client.post("/admin/teams/999/edit", data={"name": "x"}).status_code == 404


def test_team_created_by_someone_else_at_the_same_moment_is_a_clear_400(app, admin_client):
    """The other admin's insert is not committed when this one checks; the unique index decides."""
    inserted = threading.Event()

    def other_admin_creates_the_team():
        with app.app_context():
            services.create_team("Race Team")
            inserted.set()
            time.sleep(0.5)  # still uncommitted while the page request runs
            db.session.commit()

    other = threading.Thread(target=other_admin_creates_the_team)
    other.start()
    assert inserted.wait(5)
    response = admin_client.post("/admin/teams/new", data={"name": "Race Team"})
    other.join(10)
    assert response.status_code == 400
    assert "A team with this name already exists." in response.get_data(as_text=True)
    assert _team_names(app) == ["Race Team"]
