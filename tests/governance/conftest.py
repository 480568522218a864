"""Governance tests reuse the dashboards' hand-computed world and the API's token client."""

from tests.api.conftest import api, make_token  # noqa: F401 - fixtures, shared
from tests.dashboards.conftest import world  # noqa: F401
