// Lengths and areas from the configuration's whole millimetres: metres exactly, inches and
// feet to 28 significant digits (the width of Rust's Decimal).

import { Decimal } from './decimal.js';

const MM_PER_INCH = Decimal.from('25.4');

/** A length in whole millimetres. */
export class Length {
  constructor(mm) {
    this.mm = mm;
    Object.freeze(this);
  }

  /** Metres, exactly. */
  m() {
    return Decimal.from(BigInt(this.mm)).movePoint(-3);
  }

  /** Inches (1 in = 25.4 mm). */
  inches() {
    return Decimal.from(BigInt(this.mm)).dividedBy(MM_PER_INCH);
  }

  /** Feet (12 in). */
  feet() {
    return this.inches().dividedBy(12n);
  }
}

/** Width × height of a configuration or of one of its parts. */
export class Dimensions {
  constructor(widthMm, heightMm) {
    this.width = new Length(widthMm);
    this.height = new Length(heightMm);
    Object.freeze(this);
  }

  /** Square metres, exactly. */
  areaM2() {
    return this.width.m().times(this.height.m());
  }

  /** Square feet (to 28 significant digits). */
  areaSqft() {
    return this.width.feet().times(this.height.feet()).dividedBy(1n);
  }

  /** Perimeter in metres, exactly. */
  perimeterM() {
    return this.width.m().plus(this.height.m()).times(2n);
  }
}
