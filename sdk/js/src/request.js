// What the host asks: the `pricing.calculated` data as plain JavaScript values, with
// exact decimals; built from the component's WIT record or from an event's JSON.

import { Decimal } from './decimal.js';
import { Dimensions } from './measure.js';

/** One configured part. */
export class Component {
  constructor(componentId, size, selectedOptions = []) {
    this.componentId = componentId;
    this.size = size;
    this.selectedOptions = selectedOptions;
  }

  /** Whether `optionId` is chosen on this part. */
  hasOption(optionId) {
    return this.selectedOptions.includes(optionId);
  }
}

/** The platform's base pricing, every line item included. */
export class BasePricing {
  constructor(currency, subtotal, lineItems) {
    this.currency = currency;
    this.subtotal = subtotal;
    this.lineItems = lineItems;
  }

  /** The base item with this key. */
  item(itemKey) {
    return this.lineItems.find((item) => item.itemKey === itemKey) ?? null;
  }

  /** The base items of one type (`glass`, `labor`, …). */
  itemsOfType(itemType) {
    return this.lineItems.filter((item) => item.itemType === itemType);
  }
}

const decimal = (value) => Decimal.from(typeof value === 'number' ? value : String(value));

/**
 * A request from its plain shape: the WIT record as componentize-js hands it over
 * (`widthMm`, decimals as text, `sortOffset` a bigint) or a `pricing.calculated` event's
 * `data` (`width`, JSON numbers, `selectedOptions: [{optionId}]`) with an optional
 * `organization`.
 */
export function makeRequest(raw) {
  const org = raw.organization ?? {};
  const base = raw.basePricing;
  const configuration = raw.configuration;
  const size = (part) => new Dimensions(part.widthMm ?? part.width, part.heightMm ?? part.height);
  let submission = raw.submission ?? null;
  if (typeof submission === 'string') {
    try {
      submission = JSON.parse(submission);
    } catch {
      submission = null;
    }
  }
  return {
    context: raw.context ?? 'live',
    organization: {
      id: org.id ?? '',
      name: org.name ?? '',
      locale: org.locale ?? 'en-US',
      currency: org.currency ?? base.currency,
      unitSystem: org.unitSystem ?? 'metric',
    },
    session: { id: raw.session.id, origin: raw.session.origin ?? '' },
    template: { id: raw.template.id, name: raw.template.name ?? '', slug: raw.template.slug ?? '' },
    configuration: {
      size: size(configuration),
      components: configuration.components.map(
        (part) =>
          new Component(
            part.componentId,
            size(part),
            (part.selectedOptions ?? []).map((o) => (typeof o === 'string' ? o : o.optionId)),
          ),
      ),
      insideColorId: configuration.insideColorId ?? null,
      outsideColorId: configuration.outsideColorId ?? null,
    },
    configHash: raw.configHash,
    basePricing: new BasePricing(
      base.currency,
      decimal(base.subtotal),
      base.lineItems.map((item) => ({
        itemKey: item.itemKey,
        description: item.description,
        quantity: decimal(item.quantity),
        unitPrice: decimal(item.unitPrice),
        total: decimal(item.total),
        itemType: item.itemType ?? null,
        sortOffset: Number(item.sortOffset ?? 0),
      })),
    ),
    submission,
  };
}
