"""Manager dashboards: Plotly charts of the portal's measures, each with its numbers as a table and CSV."""
