// Imperial-market pricing (the Rust `plugins/imperial`, in JavaScript): the product priced
// per square foot of its overall size with a minimum billable area; kept items (labor,
// hardware by default) stay; every price charm-rounded up to .99.
//
// Settings: {"pricePerSqFt": 38.5, "minimumSqFt": 10, "keepItemTypes": ["labor", "hardware"]}.

import { Breakdown, InvalidSettings, LineItem, Plugin, Unsupported, roundTo99 } from '../../sdk/js/src/index.js';

export default class Imperial extends Plugin {
  settings(settings) {
    const parsed = {
      pricePerSqFt: settings.decimal('pricePerSqFt', '38.50'),
      minimumSqFt: settings.decimal('minimumSqFt', 10n),
      keepItemTypes: settings.strings('keepItemTypes', ['labor', 'hardware']),
    };
    settings.done();
    return parsed;
  }

  price(request, settings) {
    if (request.organization.unitSystem !== 'imperial') {
      throw new Unsupported('the organisation measures in metric');
    }
    if (settings.pricePerSqFt.lte(0n)) throw new InvalidSettings('pricePerSqFt must be > 0');
    const size = request.configuration.size;
    let area = size.areaSqft().roundDp(2);
    if (area.lt(settings.minimumSqFt)) area = settings.minimumSqFt; // equal: the computed area stays
    const width = size.width.inches().roundDp(1);
    const height = size.height.inches().roundDp(1);
    const breakdown = new Breakdown();
    breakdown.add(
      new LineItem(
        `${request.template.name} (W ${width}″ × H ${height}″, ${area} sq ft)`,
        1n,
        roundTo99(area.times(settings.pricePerSqFt)),
        { itemType: 'window' },
      ),
    );
    for (const item of request.basePricing.lineItems) {
      if (item.itemType !== null && settings.keepItemTypes.includes(item.itemType)) {
        const kept = LineItem.fromBase(item);
        kept.unitPrice = roundTo99(item.unitPrice);
        breakdown.add(kept);
      }
    }
    return breakdown;
  }
}
