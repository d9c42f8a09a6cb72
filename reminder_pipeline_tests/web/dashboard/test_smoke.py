from __future__ import annotations

from reminder_pipeline_tests.web.dashboard.conftest import Board, login


def test_pages_render(board: Board) -> None:
    client = login(board.url, "cora")
    for path in ["/", "/customers", "/worklist", "/customers/A", "/customers?band=high&sort=owed&dir=asc"]:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[-3000:])
