"""Bulk onboarding from a CSV file: good rows kept, bad rows reported by line and reason."""

import io

import sqlalchemy as sa

from portal.accounts import onboarding
from portal.accounts.models import Team, User
from portal.core.db import db
from tests.accounts.conftest import link_paths

MIXED = (
    "email,name,team,roles\n"
    "ana@example.com,Ana Lima,Customer Support,reporter\n"  # line 2: good
    "ben@example.com,Ben Okafor,AI Operations,triage;owner\n"  # 3: good, new team, two roles
    "not-an-email,Bad Email,,\n"  # 4
    "cara@example.com,,Finance,\n"  # 5: missing name
    "dev@example.com,Dev Patel,,wizard\n"  # 6: unknown role
    "ana@example.com,Ana Again,,\n"  # 7: duplicate in the file
    "taken@example.com,Already Here,,\n"  # 8: already registered
    "\n"  # 9: blank lines are skipped
    "eve@example.com,Eve Stone,customer support,manager | admin\n"  # 10: existing team, any case
    "finn@example.com,Finn Doe,,trainee owner\n"  # 11: roles separated by a space
)


def _upload(client, content, filename="people.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _people(app) -> dict[str, User]:
    with app.app_context():
        users = db.session.scalars(sa.select(User)).all()
        result = {}
        for user in users:
            result[user.email] = (
                user.name,
                user.team.name if user.team else None,
                {r.value for r in user.assigned_roles},
                user.password_hash is None,
            )
        return result


def _teams(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Team.name)))


def test_import_page_explains_the_format_and_offers_a_template(admin_client):
    page = admin_client.get("/admin/users/import").get_data(as_text=True)
    assert "email,name,team,roles" in page
    assert 'enctype="multipart/form-data"' in page
    assert '<label class="form-label" for="file">CSV file</label>' in page
    template = admin_client.get("/admin/users/import/template.csv")
    assert template.status_code == 200
    assert template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    assert template.get_data(as_text=True).startswith("email,name,team,roles\r\n")


def test_template_imports_cleanly(app, admin_client):
    template = admin_client.get("/admin/users/import/template.csv").get_data()
    response = _upload(admin_client, template)
    assert response.status_code == 200
    assert len(link_paths(response.get_data(as_text=True))) == 3
    assert _people(app)["chloe.martin@example.com"][0] == "Chloé Martin"


def test_mixed_file_keeps_good_rows_and_reports_bad_ones_by_line(
    app, admin_client, make_user, make_team
):
    make_user(email="taken@example.com", name="Already Here")
    make_team("Customer Support")
    response = _upload(admin_client, MIXED)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"

    for line, reason in [
        (4, "bad email"),
        (5, "name is missing"),
        (6, "unknown role &#39;wizard&#39;"),
        (7, "duplicate email: also on line 2"),
        (8, "already registered"),
    ]:
        row = html[html.index(f"<td>Line {line}</td>") :]
        row = row[: row.index("</tr>")]
        assert reason in row, (line, row)
    assert "Line 9" not in html

    people = _people(app)
    assert people["ana@example.com"] == ("Ana Lima", "Customer Support", {"reporter"}, True)
    assert people["ben@example.com"] == ("Ben Okafor", "AI Operations", {"triage", "owner"}, True)
    assert people["eve@example.com"] == (
        "Eve Stone",
        "Customer Support",
        {"manager", "admin"},
        True,
    )
    assert people["finn@example.com"][2] == {"trainee", "owner"}
    for bad in ("cara@example.com", "dev@example.com", "not-an-email"):
        assert bad not in people
    assert people["taken@example.com"][3] is False  # the existing account is untouched
    assert _teams(app) == ["AI Operations", "Customer Support"]  # not "Finance": its row failed

    # Every created person is listed with a link to copy; nothing was emailed (no SMTP here).
    paths = link_paths(html)
    assert len(paths) == 4
    assert html.count("Not emailed") == 4
    assert "New team: AI Operations." in html
    # The links work.
    newcomer = app.test_client()
    assert newcomer.get(paths[0]).status_code == 200


def test_bom_crlf_pipes_and_quoted_values(app, admin_client):
    content = (
        "\ufeffEmail,Name,Team,Roles\r\n"
        '"gil@example.com","Gil, the Elder","Claims",owner|manager\r\n'
        'hana@example.com,"Hana\r\nMultiline",,\r\n'
        "ivo@example.com,Ivo,,admin\r\n"
    )
    response = _upload(admin_client, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    people = _people(app)
    assert people["gil@example.com"][:3] == ("Gil, the Elder", "Claims", {"owner", "manager"})
    assert people["ivo@example.com"][2] == {"admin"}
    # A quoted value may span lines (a name may not); lines are counted in the file.
    assert "hana@example.com" not in people
    problem = html[html.index("<td>Line 3</td>") :]
    assert "bad name: A name cannot contain line breaks" in problem[: problem.index("</tr>")]
    assert "<td>5</td>" in html  # Ivo's row starts on line 5


def test_column_order_is_free_and_team_and_roles_are_optional(app, admin_client):
    response = _upload(admin_client, "name,email\nJo Park,jo@example.com\n")
    assert response.status_code == 200
    assert _people(app)["jo@example.com"] == ("Jo Park", None, {"reporter"}, True)


def test_file_with_only_bad_rows_stores_nothing_and_answers_400(app, admin_client):
    response = _upload(admin_client, "email,name,team,roles\nbroken,,,\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<td>Line 2</td>" in html and "name is missing" in html
    assert "Nobody was added from this file." in html
    assert _people(app).keys() == {"ada@example.com"}


def test_unusable_files_are_refused_beside_the_file_field(app, admin_client):
    cases = [
        (b"email,name\nx@example.com,X\n", "people.xlsx", "Upload a .csv file"),
        (b"PK\x03\x04\x00\x00binary", "people.csv", "This is not a CSV text file"),
        ("email,name\nzoë@example.com,Zoë\n".encode("latin-1"), "people.csv", "not UTF-8"),
        (b"", "people.csv", "The file is empty"),
        (b"email,name,team,roles\n", "people.csv", "no people in it"),
        (b"mail,fullname\na@example.com,A\n", "people.csv", "unknown column &#39;mail&#39;"),
        (b"email,team\na@example.com,T\n", "people.csv", "the column &#39;name&#39; is missing"),
        (b"email,name,email\na@example.com,A,b@example.com\n", "people.csv", "appears twice"),
        (
            b"email,name\n" + b"p@example.com,P\n" * (onboarding.MAX_ROWS + 1),
            "people.csv",
            "more than 2,000 people",
        ),
    ]
    for content, filename, message in cases:
        response = _upload(admin_client, content, filename)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, message
        assert message in html, message
        assert 'id="file-error"' in html, message  # beside the field
    assert _people(app).keys() == {"ada@example.com"}


def test_too_big_file_is_refused_beside_the_field(app, admin_client):
    big = b"email,name\n" + b"x" * (onboarding.MAX_FILE_BYTES + 10)
    response = _upload(admin_client, big)
    assert response.status_code == 400
    assert "The file is larger than 1 MB." in response.get_data(as_text=True)
    huge = b"email,name\n" + b"x" * (3 * onboarding.MAX_FILE_BYTES)
    response = _upload(admin_client, huge)
    assert response.status_code == 400
    assert "The file is larger than 1 MB." in response.get_data(as_text=True)


def test_no_file_chosen(admin_client):
    response = admin_client.post("/admin/users/import", data={})
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.get_data(as_text=True)


def test_a_row_refused_at_save_time_is_undone_alone(app, make_user):
    """Someone registers an email between the check and the save: only that row is lost."""
    content = (
        b"email,name,team,roles\n"
        b"first@example.com,First,Alpha,\n"
        b"racer@example.com,Racer,Race Team,\n"
        b"last@example.com,Last,Omega,\n"
    )
    with app.app_context():
        rows, problems = onboarding.read_people_csv("people.csv", content)
        assert problems == []
    make_user(email="racer@example.com")  # committed by another request meanwhile
    with app.app_context():
        result = onboarding.import_people(rows, problems, by=None)
        db.session.commit()
        assert [p.user.email for p in result.created] == ["first@example.com", "last@example.com"]
        assert [(p.line, p.email) for p in result.problems] == [(3, "racer@example.com")]
        assert result.new_teams == ["Alpha", "Omega"]
    assert _teams(app) == ["Alpha", "Omega"]  # the racer's new team was undone with its row
    assert {"first@example.com", "last@example.com"} <= _people(app).keys()
