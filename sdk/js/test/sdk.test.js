// The kit natively: exact decimals and rounding, measures, the breakdown helpers, strict
// settings, the sample request and event reading, the answer form the shared vectors use.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Breakdown, Decimal, Dimensions, InvalidSettings, Length, LineItem, Plugin, Settings, dec,
  roundMoney, roundTo99,
} from '../src/index.js';
import { answer, canonical, requestFromEvent, sampleRequest } from '../src/testing.js';

test('decimals are exact and round like the host and Rust', () => {
  assert.equal(dec('0.1').plus('0.2').toString(), '0.3');
  assert.equal(roundMoney('2.345').toString(), '2.35');
  assert.equal(roundMoney('-0.125').toString(), '-0.13');
  assert.equal(dec('1.2525').roundDp(3).toString(), '1.252');
  assert.equal(dec('1.5').roundDp(2).toString(), '1.5');
  assert.equal(dec('118.96').roundDp(1).toString(), '119.0');
  assert.equal(roundTo99('412.10').toString(), '412.99');
  assert.equal(roundTo99('412.99').toString(), '412.99');
  assert.equal(dec('140.2500').toWire(), '140.25');
  assert.equal(dec('-0.00').toWire(), '0');
  assert.equal(dec(1.5e-7).toString(), '0.00000015');
  assert.equal(dec(3000n).dividedBy('25.4').toString(), '118.1102362204724409448818898');
  for (const bad of ['1e2', 'NaN', ' 1', '', '1_000']) assert.throws(() => dec(bad), RangeError);
  assert.ok(new Decimal(5n, 1).eq('0.50'));
});

test('measures', () => {
  assert.equal(new Length(1524).inches().toString(), '60');
  assert.equal(new Length(1524).feet().toString(), '5');
  assert.equal(new Dimensions(1200, 1400).areaM2().toWire(), '1.68');
  assert.equal(new Dimensions(1200, 1400).perimeterM().toWire(), '5.2');
  assert.equal(new Dimensions(914, 1219).areaSqft().roundDp(2).toString(), '11.99');
});

test('breakdown helpers find, reprice, add and remove', () => {
  const request = sampleRequest();
  const breakdown = Breakdown.fromBase(request.basePricing);
  assert.equal(breakdown.subtotal().toWire(), request.basePricing.subtotal.toWire());
  assert.ok(breakdown.reprice('template:frame:tpl_lift', (unit) => unit.times('1.1')));
  assert.equal(breakdown.item('template:frame:tpl_lift').unitPrice.toWire(), '341');
  assert.ok(!breakdown.reprice('nope', (unit) => unit));
  breakdown.add(new LineItem('Delivery', 1n, 45n, { itemType: 'service' }));
  assert.equal(breakdown.remove('template:install:tpl_lift').unitPrice.toWire(), '450');
  assert.equal(breakdown.subtotal().toWire(), '3042.6');
  assert.equal(request.basePricing.itemsOfType('glass').length, 1);
});

test('settings are read strictly', () => {
  const settings = Settings.parse('{"fee": 0.1, "text": "12.50", "n": 10.0}');
  assert.equal(settings.decimal('fee', 0n).toString(), '0.1');
  assert.equal(settings.decimal('text', 0n).toString(), '12.50');
  assert.equal(settings.decimal('n', 0n).toString(), '10');
  settings.done();
  assert.throws(() => Settings.parse('{"other": 1}').done(), InvalidSettings);
  assert.throws(() => Settings.parse('{"fee": true}').decimal('fee', 0n), InvalidSettings);
  assert.throws(() => Settings.parse('[1]'), InvalidSettings);
  assert.equal(Settings.parse('').string('missing', 'x'), 'x');
});

class Delivery extends Plugin {
  settings(settings) {
    const fee = settings.decimal('fee', 95n);
    settings.done();
    return fee;
  }

  price(request, fee) {
    return Breakdown.fromBase(request.basePricing).add(new LineItem('Delivery', 1n, fee));
  }
}

test('a plugin runs natively and answers in the vector form', () => {
  const got = answer(new Delivery(), sampleRequest(), { fee: 45.5 });
  assert.equal(got.lineItems.at(-1).unitPrice, '45.5');
  assert.deepEqual(answer(new Delivery(), sampleRequest(), { fee: 'x' }), { error: 'invalid-settings' });
  assert.equal(canonical({ b: 1, a: '×' }), '{"a":"×","b":1}');
});

test('requests from events', () => {
  const request = requestFromEvent({
    data: {
      context: 'submission',
      session: { id: 'cs_1', origin: 'api' },
      template: { id: 't', name: 'Door', slug: 'door' },
      configuration: {
        width: 1000, height: 2000,
        components: [{ componentId: 'leaf', width: 1000, height: 2000, selectedOptions: [{ optionId: 'handle' }] }],
      },
      configHash: 'h',
      basePricing: {
        currency: 'EUR', subtotal: 10.5,
        lineItems: [{ itemKey: 'template:a:t', description: 'Door', quantity: 1, unitPrice: 10.5, total: 10.5 }],
      },
    },
  });
  assert.equal(request.configuration.size.areaM2().toWire(), '2');
  assert.ok(request.configuration.components[0].hasOption('handle'));
  assert.equal(request.basePricing.subtotal.toWire(), '10.5');
  assert.equal(request.context, 'submission');
});
