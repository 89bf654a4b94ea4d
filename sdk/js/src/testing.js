// Unit-test a plugin natively with node's test runner, without Wasm: build requests (a
// sample, or one read from a captured `pricing.calculated` event) and call the plugin as
// the host's call would.

import { wireRows } from './component.js';
import { PluginError } from './plugin.js';
import { makeRequest } from './request.js';

/** The request a `pricing.calculated` event (the envelope or its `data`) makes. */
export function requestFromEvent(event) {
  const data = event.data && typeof event.data === 'object' ? event.data : event;
  return makeRequest({ ...data, organization: data.organization ?? event.organization });
}

/** A 2-panel lift-slide door, 3000 × 2200 mm (the Rust SDK's `testing::sample_request`). */
export function sampleRequest() {
  const row = (itemKey, description, quantity, unitPrice, total, itemType, sortOffset) => ({
    itemKey, description, quantity, unitPrice, total, itemType, sortOffset,
  });
  const part = (componentId) => ({
    componentId, width: 1500, height: 2200, selectedOptions: [{ optionId: 'premium-handle' }],
  });
  return requestFromEvent({
    context: 'live',
    organization: { id: 'org_sample', name: 'Window Works', locale: 'de-DE', currency: 'EUR', unitSystem: 'metric' },
    session: { id: 'cs_sample', origin: 'configurator' },
    template: { id: 'tpl_lift', name: '2-Panel Lift-Slide', slug: '2-panel-lift-slide' },
    configuration: { width: 3000, height: 2200, components: [part('panel-left'), part('panel-right')] },
    configHash: 'sample',
    basePricing: {
      currency: 'EUR',
      subtotal: '3243.00',
      lineItems: [
        row('template:frame:tpl_lift', 'Lift-slide frame', '6.6', '310', '2046.00', 'door', 0),
        row('component:glass:panel', 'Triple glazing', '6.6', '95', '627.00', 'glass', 10),
        row('option:handle:premium', 'Premium handle', '1', '120', '120.00', 'hardware', 20),
        row('template:install:tpl_lift', 'Installation', '1', '450', '450.00', 'labor', 30),
      ],
    },
  });
}

/**
 * What the component answers, as the shared test vectors write it: `{lineItems: [...]}`
 * with decimals as their WIT text, or `{error: kind}`. `settings` is JSON text or a value.
 */
export function answer(plugin, request, settings) {
  const text = typeof settings === 'string' ? settings : JSON.stringify(settings);
  try {
    return { lineItems: wireRows(plugin.run(request, text)) };
  } catch (error) {
    if (error instanceof PluginError) return { error: error.kind };
    throw error;
  }
}

function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted(value[key])]));
  }
  return value;
}

/** JSON text with sorted keys and no spaces: the form every language's answer is compared
 * in, byte for byte. */
export function canonical(value) {
  return JSON.stringify(sorted(value));
}
