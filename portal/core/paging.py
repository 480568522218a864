"""Pages of a list whose rows a service fetches itself and whose total is already known."""

from collections.abc import Callable, Sequence
from typing import Any

from flask_sqlalchemy.pagination import Pagination


class KnownTotalPage(Pagination):
    """Like `db.paginate(...)` (same attributes: items, total, pages, iter_pages, ...), for a list
    whose total the page computes anyway (a GROUP BY of counts): no COUNT query of its own, and the
    rows may be plain tuples instead of ORM objects. `fetch(offset, limit)` returns the rows."""

    def __init__(
        self,
        page: int,
        per_page: int,
        total: int,
        fetch: Callable[[int, int], Sequence[Any]],
    ):
        super().__init__(
            page=max(1, page),
            per_page=per_page,
            max_per_page=None,
            error_out=False,
            total=total,
            fetch=fetch,
        )

    def _query_items(self) -> list[Any]:
        if self._query_offset >= self._query_args["total"]:
            return []  # past the end: nothing to ask the database for
        return list(self._query_args["fetch"](self._query_offset, self.per_page))

    def _query_count(self) -> int:
        return self._query_args["total"]
