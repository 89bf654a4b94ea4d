// A hostile JavaScript plugin for the host's tests: what it does is chosen by its
// settings' `do` — `spin` (an endless loop), `grow` (memory until the cap), `throw` (an
// uncaught exception), `recurse` (unbounded recursion), `flood` (an answer past the row
// cap), `chatter` (a log flood).

import { Breakdown, LineItem, Plugin, info } from '../../../sdk/js/src/index.js';

const recurse = (depth) => recurse(depth + 1) + 1;

export default class Hostile extends Plugin {
  settings(settings) {
    return settings.string('do', 'spin');
  }

  price(request, what) {
    if (what === 'spin') {
      for (;;) {
        // endless
      }
    }
    if (what === 'grow') {
      const hoard = [];
      for (;;) hoard.push(new Uint8Array(1 << 20).fill(1));
    }
    if (what === 'throw') throw new TypeError('an uncaught exception');
    if (what === 'recurse') recurse(0);
    if (what === 'flood') {
      // Past the 500 rows an answer may hold.
      return new Breakdown(Array.from({ length: 600 }, () => new LineItem('x', 1n, 1n)));
    }
    if (what === 'chatter') {
      for (;;) info('chatter '.repeat(50));
    }
    return Breakdown.fromBase(request.basePricing);
  }
}
