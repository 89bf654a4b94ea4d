// The shared test vectors (`plugins/vectors.json`), natively: every JavaScript plugin
// answers each of its vectors with the JSON the Rust and Python versions give, byte for byte.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { answer, canonical, requestFromEvent } from '../../sdk/js/src/testing.js';
import GlassArea from './glass-area.js';
import Imperial from './imperial.js';
import Margin from './margin.js';

const plugins = { margin: new Margin(), 'glass-area': new GlassArea(), imperial: new Imperial() };
const { vectors } = JSON.parse(readFileSync(new URL('../vectors.json', import.meta.url), 'utf8'));

for (const vector of vectors) {
  test(vector.name, () => {
    const got = answer(plugins[vector.plugin], requestFromEvent(vector.event), vector.settings);
    assert.equal(canonical(got), canonical(vector.expected));
  });
}

test('every plugin has vectors', () => {
  assert.deepEqual(new Set(vectors.map((v) => v.plugin)), new Set(Object.keys(plugins)));
  assert.ok(vectors.length >= 25);
});
