"""Unit-test helpers: real JupyterHub objects on an in-memory database, no hub running."""

import pytest
from celerylab_hub import secrets
from celerylab_hub.spawner import CeleryLabSpawner
from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.user import User
from traitlets.config import Config


@pytest.fixture
def db():
    return orm.new_session_factory("sqlite://")()


@pytest.fixture
def make_spawner(db):
    def make(name: str = "alice", config: Config | None = None) -> CeleryLabSpawner:
        orm_user = orm.User(name=name)
        db.add(orm_user)
        db.commit()
        return CeleryLabSpawner(
            user=User(orm_user, {"db": db}), hub=Hub(), config=config or Config(), db=db
        )

    return make


@pytest.fixture
def secrets_dir(tmp_path):
    path = tmp_path / "secrets"
    secrets.ensure(path)
    return path
