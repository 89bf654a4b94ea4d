// WinFactor pricing plugins in JavaScript (componentize-js).
//
// A pricing plugin is a WebAssembly component that receives everything
// `pricing.calculated` carries and returns the full replacement breakdown. Extend `Plugin`,
// export `price = component(new MyPlugin())` from the entry module, build it with
// componentize-js. Money is exact: `Decimal` (BigInt-based) everywhere, rounded as the host
// rounds (`roundMoney`); natively the same class is plain JavaScript (`./testing.js`).

export { Decimal, dec, roundMoney, roundTo99 } from './decimal.js';
export { Length, Dimensions } from './measure.js';
export { Breakdown, LineItem, MAX_LINE_ITEMS } from './breakdown.js';
export { Plugin, PluginError, InvalidSettings, Unsupported, Failed, Settings } from './plugin.js';
export { BasePricing, Component, makeRequest } from './request.js';
export { component } from './component.js';
export { debug, info, warn, error, useHostLog } from './log.js';
