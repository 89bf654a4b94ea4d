// Markup pricing: every unit price raised by a markup chosen per item type, else per
// template, else a default (the Rust `plugins/margin`, in JavaScript).
//
// Settings: {"default": 0.25, "byTemplate": {"2-panel-lift-slide": 0.30},
// "byItemType": {"glass": 0.10, "labor": 0}} (fractions: 0.25 = +25 %).

import { Breakdown, InvalidSettings, Plugin, dec, info } from '../../sdk/js/src/index.js';

export default class Margin extends Plugin {
  settings(settings) {
    const parsed = {
      default: settings.decimal('default', 0n),
      byTemplate: settings.decimalMap('byTemplate'),
      byItemType: settings.decimalMap('byItemType'),
    };
    settings.done();
    return parsed;
  }

  price(request, settings) {
    const markups = [settings.default, ...settings.byTemplate.values(), ...settings.byItemType.values()];
    if (markups.some((m) => m.lt(-1n))) throw new InvalidSettings('a markup below -1 (-100 %)');
    const template = settings.byTemplate.get(request.template.slug);
    const breakdown = Breakdown.fromBase(request.basePricing).repriceAll((item) => {
      const markup =
        (item.itemType !== null ? settings.byItemType.get(item.itemType) : undefined) ??
        template ??
        settings.default;
      return item.unitPrice.times(dec(1n).plus(markup));
    });
    info(`marked up ${breakdown.lineItems.length} items`);
    return breakdown;
  }
}
