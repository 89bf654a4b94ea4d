"""The shared test vectors (`plugins/vectors.json`), natively: every Python plugin answers
each of its vectors with the JSON the Rust and JavaScript versions give, byte for byte."""

import json
from pathlib import Path

import pytest
from winfactor_pricing import testing

import glass_area
import imperial
import margin

PLUGINS = {"margin": margin.Margin(), "glass-area": glass_area.GlassArea(), "imperial": imperial.Imperial()}
VECTORS = json.loads((Path(__file__).parent.parent / "vectors.json").read_text("utf-8"))["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_answers_the_shared_vector(vector):
    request = testing.request_from_event(vector["event"])
    got = testing.answer(PLUGINS[vector["plugin"]], request, vector["settings"])
    assert testing.canonical(got) == testing.canonical(vector["expected"])


def test_every_plugin_has_vectors():
    assert {v["plugin"] for v in VECTORS} == set(PLUGINS)
    assert len(VECTORS) >= 25
