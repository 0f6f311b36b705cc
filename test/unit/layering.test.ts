/**
 * The folders of src/ form layers (scripts/check-layers.ts): nothing imports upward, the
 * transports do not import each other, and the protocol core imports no I/O.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkFile, checkTree, importsOf } from '../../scripts/check-layers.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('layering of src/', () => {
  it('no folder imports a higher layer, and the core imports no I/O', () => {
    expect(checkTree(SRC)).toEqual([]);
  });

  it('finds static, type-only, re-exported and dynamic imports', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from '../c/c.js';",
      "const d = await import('../d/d.js');",
      "type E = import('../e/e.js').E;",
      "import 'side-effect';",
      "import {\n  f,\n  g,\n} from '../f/f.js';",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['../b/b.js', '../c/c.js', '../d/d.js', '../e/e.js', '../f/f.js', './a.js', 'side-effect']);
  });

  it('reports an upward import, a same-rank import, core I/O and an unranked folder', () => {
    const f = (folder: string) => join(SRC, folder, 'x.ts');
    expect(checkFile(SRC, f('l3'), "import type { UdpLayer } from '../udp/udp-layer.js';")).toHaveLength(1);
    expect(checkFile(SRC, f('tcp'), "import { UdpLayer } from '../udp/udp-layer.js';")[0].why).toMatch(/one rank/);
    expect(checkFile(SRC, f('dataplane'), "import { createLogger } from '../control/logger.js';")).toHaveLength(1);
    expect(checkFile(SRC, f('tcp'), "import { Worker } from 'node:worker_threads';")[0].why).toMatch(/sans-I\/O/);
    expect(checkFile(SRC, f('newfolder'), '')[0].why).toMatch(/no rank/);
    // Allowed: downward and within a folder.
    expect(checkFile(SRC, f('tcp'), "import { C } from '../base/counters.js'; import { x } from './y.js';")).toEqual([]);
  });
});
