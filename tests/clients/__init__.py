"""Independent WHIP and WHEP clients against the reference server, in both profile pairs (issue 19).

Each test is marked `@pytest.mark.client(NAME, role=...)`; its outcome per profile pair is recorded
(conftest.py) and `python -m tests.clients.table` turns the last run into the README's client table.
"""
