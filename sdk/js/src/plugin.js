// Typed plugin errors, and settings read as strictly as the Rust SDK's serde reads them
// (unknown keys and wrong types are `InvalidSettings`).

import { Decimal } from './decimal.js';

/** Why a plugin declines to price; the customer then sees base pricing. */
export class PluginError extends Error {
  constructor(kind, why) {
    super(why);
    this.kind = kind;
    this.why = why;
  }
}

/** The organisation's settings are unusable; the text says how. */
export class InvalidSettings extends PluginError {
  constructor(why) {
    super('invalid-settings', why);
  }
}

/** This request is outside what the plugin prices. */
export class Unsupported extends PluginError {
  constructor(why) {
    super('unsupported', why);
  }
}

/** Anything else. */
export class Failed extends PluginError {
  constructor(why) {
    super('failed', why);
  }
}

function number(value, name) {
  try {
    if (typeof value === 'number' || typeof value === 'string') return Decimal.from(value);
  } catch {
    // fall through
  }
  throw new InvalidSettings(`\`${name}\`: expected a decimal, got ${JSON.stringify(value)}`);
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The organisation's settings (a JSON object), read field by field; `done()` refuses
 * fields nobody read. */
export class Settings {
  #values;
  #read = new Set();

  constructor(values) {
    this.#values = values;
  }

  /** Settings from JSON text (empty text is `{}`). */
  static parse(text) {
    let values;
    try {
      values = JSON.parse(text.trim() || '{}');
    } catch (err) {
      throw new InvalidSettings(`not JSON: ${err.message}`);
    }
    if (!isObject(values)) throw new InvalidSettings('settings must be a JSON object');
    return new Settings(values);
  }

  #get(name) {
    this.#read.add(name);
    return Object.hasOwn(this.#values, name) ? this.#values[name] : undefined;
  }

  /** A decimal field. */
  decimal(name, fallback) {
    const value = this.#get(name);
    return value === undefined ? Decimal.from(fallback) : number(value, name);
  }

  /** A decimal field that must be there. */
  requiredDecimal(name) {
    const value = this.#get(name);
    if (value === undefined) throw new InvalidSettings(`missing field \`${name}\``);
    return number(value, name);
  }

  /** An object of decimals (empty when missing), as a Map. */
  decimalMap(name) {
    const value = this.#get(name);
    if (value === undefined) return new Map();
    if (!isObject(value)) throw new InvalidSettings(`\`${name}\`: expected an object`);
    return new Map(Object.entries(value).map(([key, v]) => [key, number(v, `${name}.${key}`)]));
  }

  /** A string field. */
  string(name, fallback) {
    const value = this.#get(name);
    if (value === undefined) return fallback;
    if (typeof value !== 'string') throw new InvalidSettings(`\`${name}\`: expected a string`);
    return value;
  }

  /** A list of strings. */
  strings(name, fallback) {
    const value = this.#get(name);
    if (value === undefined) return [...fallback];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw new InvalidSettings(`\`${name}\`: expected a list of strings`);
    }
    return value;
  }

  /** A list of objects, each read with `read` (which should end with `done()`). */
  records(name, read) {
    const value = this.#get(name);
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every(isObject)) {
      throw new InvalidSettings(`\`${name}\`: expected a list of objects`);
    }
    return value.map((v) => read(new Settings(v)));
  }

  /** Refuses fields that were not read (as `deny_unknown_fields` does). */
  done() {
    const unknown = Object.keys(this.#values).filter((key) => !this.#read.has(key)).sort();
    if (unknown.length > 0) throw new InvalidSettings(`unknown field \`${unknown[0]}\``);
  }
}

/**
 * A pricing plugin: read the settings once per run, then price. Extend it, override
 * `settings` (default: the reader itself) and `price`.
 */
export class Plugin {
  /** The plugin's settings from the organisation's JSON; throw `InvalidSettings`. */
  settings(settings) {
    return settings;
  }

  /** Prices one configuration; throw a `PluginError` to decline. */
  price(_request, _settings) {
    throw new Failed('price is not implemented');
  }

  /** Reads `settingsJson` and prices `request`, as the host's call does. */
  run(request, settingsJson) {
    return this.price(request, this.settings(Settings.parse(settingsJson)));
  }
}
