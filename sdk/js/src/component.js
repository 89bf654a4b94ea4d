// The bridge between componentize-js and a `Plugin`: converts the WIT request to SDK
// values, calls the plugin, converts the answer (or its `PluginError`) back. The only
// place that knows the bindings' shapes (camelCase records, s64 as bigint, variants as
// `{tag, val}`, a thrown `{payload}` as the `err` of a result).

import { Failed, PluginError } from './plugin.js';
import { makeRequest } from './request.js';

/** The rows as the WIT `line-item` records carry them (decimals as their text). */
export function wireRows(breakdown) {
  return breakdown.lineItems.map((row) => ({
    itemKey: row.itemKey ?? null,
    externalRef: row.externalRef ?? null,
    description: row.description,
    quantity: row.quantity.toWire(),
    unitPrice: row.unitPrice.toWire(),
    itemType: row.itemType ?? null,
    sortOffset: Number(row.sortOffset),
  }));
}

const option = (value) => (value === null ? undefined : value);

/**
 * The component's `price` export for `plugin` (an instance of a `Plugin` subclass):
 * `export const price = component(new MyPlugin())`.
 */
export function component(plugin) {
  return function price(request) {
    let breakdown;
    try {
      breakdown = plugin.run(makeRequest(request), request.settings);
    } catch (error) {
      const declined =
        error instanceof PluginError ? error : new Failed(`${error?.name ?? 'Error'}: ${error?.message ?? error}`);
      throw { payload: { tag: declined.kind, val: declined.why } };
    }
    return {
      lineItems: wireRows(breakdown).map((row) => ({
        itemKey: option(row.itemKey),
        externalRef: option(row.externalRef),
        description: row.description,
        quantity: row.quantity,
        unitPrice: row.unitPrice,
        itemType: option(row.itemType),
        sortOffset: BigInt(row.sortOffset),
      })),
    };
  };
}
