"""`dianmian keys` and the published plan: keys shown once, stored hashed, checked against
the plan, listed without secrets, revoked; `plan` publishes a version (CURRENT)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyogrio
import pytest
from typer.testing import CliRunner

from api.auth import hash_key
from dianmian.cli import EXIT_BAD_INPUT, app
from planner.store import Store, get_key, list_keys, sqlite_url

SMALL = Path(__file__).resolve().parents[1] / "data" / "scenario_small"
runner = CliRunner()


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    folder = root / "small"
    shutil.copytree(SMALL, folder)
    out = root / "out"
    result = runner.invoke(app, ["plan", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return folder, out


def test_plan_is_published_as_a_version(planned):
    _folder, out = planned
    pointer = json.loads((out / "small" / "CURRENT").read_text())
    version = out / "small" / "versions" / pointer["version"]
    assert (version / "plan.gpkg").is_file() and "plan.gpkg" in pointer["files"]
    assert (out / "small" / "plan.gpkg").samefile(version / "plan.gpkg")


def test_keys_create_list_revoke(planned):
    folder, out = planned
    point = str(
        pyogrio.read_dataframe(out / "small" / "plan.gpkg", layer="service_points")["id"][0]
    )
    made = runner.invoke(
        app, ["keys", "create", str(folder), "--role", "staff", "--point", point, "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    token = re.search(r"dm_[0-9a-f]{12}_\S+", made.output).group(0)
    key_id = token.split("_")[1]
    store = Store(sqlite_url(out / "small" / "dianmian.sqlite"))
    record = get_key(store, key_id)
    assert record.role == "staff" and record.service_point == point
    assert record.secret_sha256 == hash_key(token) and token not in str(list_keys(store))
    listed = runner.invoke(app, ["keys", "list", str(folder), "--out", str(out)])
    assert key_id in listed.output and token not in listed.output
    revoked = runner.invoke(app, ["keys", "revoke", str(folder), key_id, "--out", str(out)])
    assert revoked.exit_code == 0 and get_key(store, key_id).revoked_at is not None
    again = runner.invoke(app, ["keys", "revoke", str(folder), key_id, "--out", str(out)])
    assert again.exit_code == EXIT_BAD_INPUT
    store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "staff"], "needs `service_point`"),
        (["--role", "staff", "--point", "NOPE"], "no such service point"),
        (["--role", "volunteer", "--volunteer", "NOPE"], "no such volunteer"),
        (["--role", "root"], "unknown"),
    ],
)
def test_bad_keys_are_refused(planned, args, message):
    folder, out = planned
    result = runner.invoke(app, ["keys", "create", str(folder), *args, "--out", str(out)])
    assert result.exit_code == EXIT_BAD_INPUT
    assert message in result.output
