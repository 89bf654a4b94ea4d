// Exact decimals on BigInt: a coefficient and a scale (digits after the point), as Rust's
// `rust_decimal` and Python's `decimal` hold them. No floats anywhere: money travels as
// decimal text, and only division (inches, feet) rounds, to 28 significant digits.

const DECIMAL_TEXT = /^([+-])?(\d+\.?\d*|\.\d+)$/;
const TEN = 10n;

function pow10(n) {
  return TEN ** BigInt(n);
}

function abs(n) {
  return n < 0n ? -n : n;
}

// `coefficient / divisor` (divisor > 0) rounded to an integer by `mode`; `sticky` says a
// non-zero remainder was already dropped before.
function divRound(coefficient, divisor, mode, sticky = false) {
  const negative = coefficient < 0n;
  const magnitude = abs(coefficient);
  let quotient = magnitude / divisor;
  const remainder = magnitude % divisor;
  const twice = remainder * 2n;
  let up = false;
  if (mode === 'half-up') {
    up = twice > divisor || (twice === divisor);
  } else if (mode === 'half-even') {
    up = twice > divisor || (twice === divisor && (sticky || quotient % 2n === 1n));
  } else if (mode === 'floor') {
    up = negative && (remainder > 0n || sticky);
  } else {
    throw new Error(`unknown rounding mode ${mode}`);
  }
  if (up) quotient += 1n;
  return negative ? -quotient : quotient;
}

/** An exact decimal number. Immutable. */
export class Decimal {
  /** @param {bigint} coefficient @param {number} scale digits after the point (≥ 0) */
  constructor(coefficient, scale = 0) {
    if (typeof coefficient !== 'bigint' || !Number.isInteger(scale) || scale < 0) {
      throw new TypeError('Decimal(coefficient: bigint, scale: integer ≥ 0)');
    }
    this.coefficient = coefficient;
    this.scale = scale;
    Object.freeze(this);
  }

  /**
   * A decimal from decimal text (`"140.25"`), a bigint, or a number (read through its
   * shortest round-trip text, as Rust's serde and Python's `repr` read JSON numbers).
   */
  static from(value) {
    if (value instanceof Decimal) return value;
    if (typeof value === 'bigint') return new Decimal(value, 0);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new RangeError(`${value} is not a decimal`);
      return Decimal.fromScientific(String(value));
    }
    if (typeof value === 'string') {
      const match = DECIMAL_TEXT.exec(value);
      if (!match) throw new RangeError(`\`${value}\` is not a decimal`);
      const [whole, fraction = ''] = match[2].split('.');
      const digits = BigInt((whole || '0') + fraction);
      return new Decimal(match[1] === '-' ? -digits : digits, fraction.length);
    }
    throw new TypeError(`${typeof value} is not a decimal`);
  }

  /** `1.5e-7`, `1e+21` and plain text alike. */
  static fromScientific(text) {
    const [mantissa, exponent = '0'] = text.toLowerCase().split('e');
    const base = Decimal.from(mantissa);
    const shift = Number(exponent);
    return shift >= 0 ? base.#withScaleAtLeast(0).#shiftLeft(shift) : base.movePoint(shift);
  }

  #withScaleAtLeast(scale) {
    return scale <= this.scale ? this : new Decimal(this.coefficient * pow10(scale - this.scale), scale);
  }

  #shiftLeft(places) {
    // × 10^places
    const keep = Math.min(places, this.scale);
    return new Decimal(this.coefficient * pow10(places - keep), this.scale - keep);
  }

  /** × 10^places (negative: ÷), exactly. */
  movePoint(places) {
    if (places >= 0) return this.#shiftLeft(places);
    return new Decimal(this.coefficient, this.scale - places);
  }

  static #aligned(a, b) {
    const scale = Math.max(a.scale, b.scale);
    return [a.#withScaleAtLeast(scale).coefficient, b.#withScaleAtLeast(scale).coefficient, scale];
  }

  plus(other) {
    const [a, b, scale] = Decimal.#aligned(this, Decimal.from(other));
    return new Decimal(a + b, scale);
  }

  minus(other) {
    const [a, b, scale] = Decimal.#aligned(this, Decimal.from(other));
    return new Decimal(a - b, scale);
  }

  times(other) {
    const o = Decimal.from(other);
    return new Decimal(this.coefficient * o.coefficient, this.scale + o.scale);
  }

  /**
   * ÷ `other`: exact when the quotient terminates within `digits` significant digits,
   * else rounded half to even to `digits` (28, the width of Rust's `Decimal`).
   */
  dividedBy(other, digits = 28) {
    const o = Decimal.from(other);
    if (o.coefficient === 0n) throw new RangeError('division by zero');
    const extra = digits + 2 + String(abs(o.coefficient)).length;
    // this / o = (c1 / 10^s1) / (c2 / 10^s2) = c1 · 10^(s2 + extra) / c2 / 10^(s1 + extra)
    let numerator = this.coefficient * pow10(o.scale + extra);
    let divisor = o.coefficient;
    if (divisor < 0n) {
      divisor = -divisor;
      numerator = -numerator;
    }
    const quotient = numerator / divisor;
    const sticky = numerator % divisor !== 0n;
    return Decimal.#roundSignificant(quotient, this.scale + extra, digits, sticky);
  }

  static #roundSignificant(coefficient, scale, digits, sticky) {
    const length = String(abs(coefficient)).length;
    if (length > digits) {
      const drop = length - digits;
      const dropTo = Math.max(0, scale - drop);
      const divisor = pow10(scale - dropTo);
      if (drop > scale) throw new RangeError('quotient out of range');
      return new Decimal(divRound(coefficient, divisor, 'half-even', sticky), dropTo).normalize();
    }
    if (sticky) {
      // Fewer digits than asked but inexact cannot happen: `extra` leaves room.
      throw new RangeError('division lost digits');
    }
    return new Decimal(coefficient, scale).normalize();
  }

  compare(other) {
    const [a, b] = Decimal.#aligned(this, Decimal.from(other));
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other) { return this.compare(other) === 0; }
  lt(other) { return this.compare(other) < 0; }
  lte(other) { return this.compare(other) <= 0; }
  gt(other) { return this.compare(other) > 0; }
  gte(other) { return this.compare(other) >= 0; }
  isZero() { return this.coefficient === 0n; }
  negated() { return new Decimal(-this.coefficient, this.scale); }

  /**
   * At most `dp` decimals, half to even by default (`'half-up'`: half away from zero;
   * `'floor'`); a number with fewer decimals stays as it is — as Rust's `round_dp`.
   */
  roundDp(dp, mode = 'half-even') {
    if (this.scale <= dp) return this;
    return new Decimal(divRound(this.coefficient, pow10(this.scale - dp), mode), dp);
  }

  /** Trailing zeros removed. */
  normalize() {
    let { coefficient, scale } = this;
    while (scale > 0 && coefficient % TEN === 0n) {
      coefficient /= TEN;
      scale -= 1;
    }
    return new Decimal(coefficient, scale);
  }

  /** The text with every decimal kept (`"71.10"`), as Rust prints a `Decimal`. */
  toString() {
    const negative = this.coefficient < 0n;
    const digits = String(abs(this.coefficient)).padStart(this.scale + 1, '0');
    const point = digits.length - this.scale;
    const text = this.scale === 0 ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
    return negative ? `-${text}` : text;
  }

  /** The WIT `decimal` text the host accepts: no trailing zeros, no `-0`. */
  toWire() {
    return this.isZero() ? '0' : this.normalize().toString();
  }

  toJSON() {
    return this.toWire();
  }
}

/** `new Decimal` from text, number or bigint: `dec('140.25')`. */
export function dec(value) {
  return Decimal.from(value);
}

/** Cents, half away from zero (how the host rounds totals). */
export function roundMoney(amount) {
  return Decimal.from(amount).roundDp(2, 'half-up');
}

/** Up to the next price ending in .99 (charm pricing); .99 stays. */
export function roundTo99(amount) {
  return roundMoney(amount).roundDp(0, 'floor').plus(new Decimal(99n, 2));
}
