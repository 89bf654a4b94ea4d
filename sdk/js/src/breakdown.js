// The answer: a full replacement breakdown, with helpers to start from the base pricing
// and reprice, replace, add or remove rows.

import { Decimal, roundMoney } from './decimal.js';

/** Most rows the host accepts in one breakdown. */
export const MAX_LINE_ITEMS = 500;

/** One row of the answer. The host computes its total (`quantity × unitPrice`, cents). */
export class LineItem {
  /**
   * @param {string} description
   * @param {Decimal|string|bigint} quantity
   * @param {Decimal|string|bigint} unitPrice
   * @param {{itemType?: string, externalRef?: string, sortOffset?: number, itemKey?: string}} [more]
   */
  constructor(description, quantity, unitPrice, more = {}) {
    this.itemKey = more.itemKey ?? null;
    this.externalRef = more.externalRef ?? null;
    this.description = description;
    this.quantity = Decimal.from(quantity);
    this.unitPrice = Decimal.from(unitPrice);
    this.itemType = more.itemType ?? null;
    this.sortOffset = more.sortOffset ?? 0;
  }

  /** The base item as a row replacing it, unchanged. */
  static fromBase(item) {
    return new LineItem(item.description, item.quantity, item.unitPrice, {
      itemKey: item.itemKey,
      itemType: item.itemType,
      sortOffset: item.sortOffset,
    });
  }

  /** `quantity × unitPrice`, rounded to cents, as the host will compute it. */
  total() {
    return roundMoney(this.quantity.times(this.unitPrice));
  }
}

/** The full replacement breakdown a plugin returns. */
export class Breakdown {
  constructor(lineItems = []) {
    this.lineItems = lineItems;
  }

  /** Every base item, unchanged: the starting point of most plugins. */
  static fromBase(basePricing) {
    return new Breakdown(basePricing.lineItems.map((item) => LineItem.fromBase(item)));
  }

  /** Appends a row. */
  add(item) {
    this.lineItems.push(item);
    return this;
  }

  /** The row replacing the base item `itemKey`. */
  item(itemKey) {
    return this.lineItems.find((row) => row.itemKey === itemKey) ?? null;
  }

  /** Replaces the row of `itemKey`; returns whether it was there. */
  replace(itemKey, item) {
    const index = this.lineItems.findIndex((row) => row.itemKey === itemKey);
    if (index < 0) return false;
    this.lineItems[index] = item;
    return true;
  }

  /** Sets a new unit price on the row of `itemKey` (rounded to cents). */
  reprice(itemKey, price) {
    const row = this.item(itemKey);
    if (!row) return false;
    row.unitPrice = roundMoney(price(row.unitPrice));
    return true;
  }

  /** Applies `price` to the unit price of every row (rounded to cents). */
  repriceAll(price) {
    for (const row of this.lineItems) row.unitPrice = roundMoney(price(row));
    return this;
  }

  /** Removes the row of `itemKey`; returns it if it was there. */
  remove(itemKey) {
    const index = this.lineItems.findIndex((row) => row.itemKey === itemKey);
    return index < 0 ? null : this.lineItems.splice(index, 1)[0];
  }

  /** The sum of the row totals, as the host will compute it. */
  subtotal() {
    return this.lineItems.reduce((sum, row) => sum.plus(row.total()), Decimal.from(0n));
  }
}
