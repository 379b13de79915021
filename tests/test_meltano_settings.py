"""Every numeric setting that meltano.yml declares can be set from the environment, as the READMEs say.

Meltano 4.4.1 turns a ``kind: decimal`` setting given by an environment variable into a ``Decimal``
it then cannot write into the tap's config (a stack trace): meltano.yml declares none.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from _helpers import ROOT, project, run

MELTANO = Path(sys.executable).parent / "meltano"
NUMERIC = ("integer", "decimal")


def numeric_settings() -> dict[str, list[str]]:
    plugins = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]
    found: dict[str, list[str]] = {}
    for plugin in (*plugins["extractors"], *plugins["loaders"]):
        names = [setting["name"] for setting in plugin.get("settings", []) if setting.get("kind") in NUMERIC]
        if names:
            found[plugin["name"]] = names
    return found


@pytest.mark.parametrize(("plugin", "names"), list(numeric_settings().items()), ids=list(numeric_settings()))
def test_each_numeric_setting_can_be_set_from_the_environment(plugin, names):
    prefix = plugin.upper().replace("-", "_")
    env = {**os.environ, **{f"{prefix}_{name.upper()}": "7" for name in names}}
    done = run([str(MELTANO), "config", "print", plugin], cwd=project(), env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads(done.stdout[done.stdout.index("{") :])
    assert {name: config.get(name) for name in names} == dict.fromkeys(names, 7)
