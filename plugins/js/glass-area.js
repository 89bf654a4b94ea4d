// Glass area surcharge plus a volume discount (the Rust `plugins/glass-area`, in
// JavaScript): one "Glass area surcharge" row for the glazed area (every component's
// width × height), then every unit price discounted by the largest tier reached.
//
// Settings: {"surchargePerM2": 12.5, "tiers": [{"minAreaM2": 5, "percent": 5}]}.

import { Breakdown, InvalidSettings, LineItem, Plugin, dec, info } from '../../sdk/js/src/index.js';

function tier(settings) {
  const parsed = { minAreaM2: settings.requiredDecimal('minAreaM2'), percent: settings.requiredDecimal('percent') };
  settings.done();
  return parsed;
}

export default class GlassArea extends Plugin {
  settings(settings) {
    const parsed = { surchargePerM2: settings.decimal('surchargePerM2', '12.50'), tiers: settings.records('tiers', tier) };
    settings.done();
    return parsed;
  }

  price(request, settings) {
    if (settings.surchargePerM2.lt(0n) || settings.tiers.some((t) => t.percent.lt(0n) || t.percent.gt(100n))) {
      throw new InvalidSettings('surchargePerM2 must be ≥ 0 and every percent within 0–100');
    }
    const area = request.configuration.components.reduce((sum, part) => sum.plus(part.size.areaM2()), dec(0n));
    const breakdown = Breakdown.fromBase(request.basePricing);
    if (settings.surchargePerM2.gt(0n) && area.gt(0n)) {
      breakdown.add(
        new LineItem('Glass area surcharge', area.roundDp(3), settings.surchargePerM2, {
          itemType: 'glass',
          externalRef: 'plugin:glass-area:surcharge',
          sortOffset: 900,
        }),
      );
    }
    // The largest minimum reached; the last of equals (as Rust's max_by_key).
    let reached = null;
    for (const t of settings.tiers) {
      if (area.gte(t.minAreaM2) && (reached === null || t.minAreaM2.gte(reached.minAreaM2))) reached = t;
    }
    if (reached !== null) {
      const keep = dec(1n).minus(reached.percent.movePoint(-2));
      breakdown.repriceAll((item) => item.unitPrice.times(keep));
      info(`${area} m² of glass: ${reached.percent}% volume discount`);
    }
    return breakdown;
  }
}
