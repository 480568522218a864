"""Attachments: accepted by content and name, stored under server-made names, served only to people
who may see the report, as downloads."""

import io
from pathlib import Path

from tests.feedback.conftest import PDF_BYTES, PNG_BYTES, count_reports
from tests.feedback.test_report_form import report_form


def _post_with_files(browser, files, **fields):
    data = report_form(**fields)
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return browser.post("/report", data=data, content_type="multipart/form-data")


def test_accepted_files_are_stored_under_server_names_and_served_as_downloads(
    app, cast, browser_as
):
    browser = browser_as(cast.reporter)
    files = [
        ("screen shot.png", PNG_BYTES),
        ("../../etc/invoice.pdf", PDF_BYTES),
        ("runs.csv", "run,result\nR-1,wrong price €\n".encode()),
    ]
    response = _post_with_files(browser, files)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    stored = sorted(p.name for p in (Path(app.config["UPLOAD_FOLDER"]) / "reports").iterdir())
    assert len(stored) == 3
    assert not any("shot" in name or "invoice" in name for name in stored)

    page = browser.get("/reports/1").get_data(as_text=True)
    assert "screen shot.png" in page and "invoice.pdf" in page and "runs.csv" in page

    download = browser.get("/reports/1/attachments/2")
    assert download.status_code == 200
    assert download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "invoice.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"

    # The agent's owner and triage may download; another reporter gets 404, like a missing file.
    assert browser_as(cast.owner).get("/reports/1/attachments/2").status_code == 200
    assert browser_as(cast.triage).get("/reports/1/attachments/1").status_code == 200
    assert browser_as(cast.other).get("/reports/1/attachments/2").status_code == 404
    assert browser.get("/reports/1/attachments/99").status_code == 404


def test_a_file_whose_content_does_not_match_its_name_is_refused(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    response = _post_with_files(
        browser,
        [("photo.png", b"<html><script>alert(1)</script></html>")],
        details="It happened twice this morning.",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "photo.png does not contain what its name says" in page
    assert 'id="attachments-error"' in page  # beside the field
    assert "It happened twice this morning." in page  # the rest of the form is kept
    assert count_reports(app) == 0
    assert not (Path(app.config["UPLOAD_FOLDER"]) / "reports").exists()


def test_refusals_by_type_size_count_and_encoding(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    cases = [
        ([("tool.exe", b"MZ\x90\x00")], "tool.exe is not an accepted type"),
        ([("notes.txt", PNG_BYTES)], "notes.txt does not contain what its name says"),
        ([("latin.txt", "caf\xe9".encode("latin-1"))], "latin.txt does not contain"),
        ([("big.pdf", PDF_BYTES + b"0" * (5 * 1024 * 1024))], "big.pdf is larger than 5 MB"),
        ([(f"f{n}.txt", b"hello") for n in range(4)], "Attach at most 3 files."),
    ]
    for files, message in cases:
        response = _post_with_files(browser, files)
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True), message
    assert count_reports(app) == 0
