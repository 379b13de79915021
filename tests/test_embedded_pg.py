"""The embedded PostgreSQL of `make demo`: starts (also as root), serves TCP, stops, restarts with its data."""

import psycopg
import pytest

from bloom_suite.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError
from bloom_suite.processes import free_port


@pytest.fixture
def postgres(tmp_path):
    server = EmbeddedPostgres(data_dir=tmp_path / "pgdata", port=free_port())
    yield server
    server.stop()


def test_starts_serves_and_keeps_data_across_restarts(postgres):
    postgres.start()
    postgres.create_database("bloom")
    with psycopg.connect(postgres.dsn("bloom"), autocommit=True) as conn:
        conn.execute("create table kept (n int)")
        conn.execute("insert into kept values (7)")
        version = conn.execute("show server_version").fetchone()[0]
    assert version.startswith("18.")
    postgres.stop()
    assert not postgres.is_running()
    postgres.start()
    postgres.create_database("bloom")  # already there: no error
    with psycopg.connect(postgres.dsn("bloom")) as conn:
        assert conn.execute("select n from kept").fetchall() == [(7,)]


def test_a_taken_port_is_named(postgres, tmp_path):
    other = EmbeddedPostgres(data_dir=tmp_path / "other", port=5432)  # the machine's own server
    with pytest.raises(EmbeddedPostgresError, match=r"port 5432 on 127\.0\.0\.1 is taken.*BLOOM_PG_PORT"):
        other.start()
