"""A chart's numbers as CSV: the same header and cells as the table under the chart."""

import csv
import io
import re

from portal.dashboards.charts import Chart

# A cell a spreadsheet would run as a formula. Numbers such as "-12.5" are left alone.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def spreadsheet_safe(text: str) -> str:
    if _FORMULA.match(text) and not _NUMBER.match(text):
        return "'" + text
    return text


def chart_csv(chart: Chart) -> str:
    """The header and the table's rows. The scope (agent, team, dates) is in the file name, so the
    file stays a plain table that tools read without skipping lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(label) for label in chart.header])
    for row in chart.table():
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()
