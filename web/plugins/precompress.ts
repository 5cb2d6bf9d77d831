/**
 * A Vite build plugin: a Brotli and a gzip copy beside each text asset the build writes
 * (`x.js.br`, `x.js.gz`), for the hub to send to browsers that accept them (collabd/api/assets.py).
 * Compressed once here, at the highest levels, instead of on every request: the main chunk is
 * ~1 MB of JavaScript, ~265 KB as Brotli.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import type { Plugin } from 'vite'

const TEXT = /\.(js|mjs|css|svg|json|map|ttf|txt)$/
const SMALLEST = 1024 // below this, the encoding's headers cost more than it saves
const toBrotli = promisify(brotliCompress)
const toGzip = promisify(gzip)

async function compress(path: string): Promise<void> {
  const data = await readFile(path)
  if (data.length < SMALLEST) return
  const [br, gz] = await Promise.all([
    toBrotli(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
    toGzip(data, { level: 9 }),
  ])
  // an encoding that does not make the file smaller is not offered
  if (br.length < data.length) await writeFile(`${path}.br`, br)
  if (gz.length < data.length) await writeFile(`${path}.gz`, gz)
}

export function precompress(): Plugin {
  return {
    name: 'collabd-precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const dir = options.dir ?? ''
      // on libuv's threads, side by side
      await Promise.all(Object.keys(bundle).filter((name) => TEXT.test(name)).map((name) => compress(join(dir, name))))
    },
  }
}
