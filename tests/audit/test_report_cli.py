"""`flask report`: formats, periods, output files, and refusals with "Error: …" and a non-zero exit."""
import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook

from shop.extensions import db
from tests.factories import make_producer, make_product


@pytest.fixture
def data(app):
    with app.app_context():
        producer = make_producer("HTX Cà phê Định Quán")
        make_product(producer, stars=4, decision_date=date(2019, 3, 31))
        make_product(producer, stars=3, decision_date=date(2019, 4, 1))
        make_product(producer, stars=3, decision_date=date(2020, 1, 1))
        db.session.commit()


def invoke(runner, *args):
    return runner.invoke(args=["report", *args])


def test_json_to_stdout_for_a_year(runner, data):
    result = invoke(runner, "--year", "2019", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["period"] == {"start": "2019-01-01", "end": "2019-12-31", "name": "2019"}
    stars = next(t for t in body["tables"] if t["key"] == "stars")
    assert stars["rows"][1] == ["4★", 1] and stars["rows"][2] == ["3★", 1] and stars["totals"][1] == 2


@pytest.mark.parametrize("args, evaluated", [(["--quarter", "2019-Q1"], 1), (["--quarter", "2019-Q2"], 1),
                                             (["--half", "2019-H1"], 2),
                                             (["--from", "31/03/2019", "--to", "2019-04-01"], 2),
                                             (["--from", "2020-01-01", "--to", "2020-01-01"], 1)])
def test_periods(runner, data, tmp_path, args, evaluated):
    out = tmp_path / "r.json"
    result = invoke(runner, *args, "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert next(t for t in body["tables"] if t["key"] == "summary")["rows"][0][1] == evaluated


def test_xlsx_and_pdf_files(runner, data, tmp_path):
    xlsx, pdf = tmp_path / "r.xlsx", tmp_path / "r.pdf"
    result = invoke(runner, "--quarter", "2019-Q2", "--format", "xlsx", "--out", str(xlsx))
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.stdout
    workbook = load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert len(workbook.sheetnames) == 12
    result = invoke(runner, "--year", "2019", "--format", "pdf", "--out", str(pdf), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_the_default_file_name_names_the_period(runner, data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, "--half", "2019-H2", "--format", "xlsx")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bao-cao-ocop-2019-H2.xlsx").exists()


@pytest.mark.parametrize("args", [
    ["--from", "2019-02-30", "--to", "2019-03-01"],      # no such day
    ["--from", "2019-05-01", "--to", "2019-01-01"],      # from after to
    ["--from", "2019-01-01"],                            # half a range
    ["--year", "2019", "--format", "docx"],              # unknown format
    ["--quarter", "2019-Q5"],
    ["--quarter", "2019-H1"],
    ["--year", "2019", "--quarter", "2019-Q1"],          # two periods
    [],                                                  # no period
])
def test_refusals_exit_non_zero_with_an_error(runner, data, args):
    result = invoke(runner, *args)
    assert result.exit_code != 0
    assert "Error" in result.output


def test_progress_is_shown_on_stderr(runner, data, tmp_path):
    result = invoke(runner, "--year", "2019", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    assert "Building the report 2019" in result.stderr
