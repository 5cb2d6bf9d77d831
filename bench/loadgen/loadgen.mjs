// Yjs websocket load generator for bench/hub_bench.py.
//
// Usage: node loadgen.mjs '<json config>'
// Every client is a real Yjs Y.Doc speaking the y-websocket protocol (y-protocols/sync),
// all in this one process so that send and arrival times come from the same clock.
//
// Protocol with the orchestrator: at a measurement point this prints `MARK <name>` and
// waits for one line on stdin (the orchestrator samples the server's CPU/RSS meanwhile);
// at the end it prints `RESULT <json>` and exits. Every wait is bounded.

import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import readline from 'node:readline'
import { performance, monitorEventLoopDelay } from 'node:perf_hooks'

const CONFIG = JSON.parse(process.argv[2] || '{}')
const DEFLATE = Boolean(CONFIG.deflate)
const MSG_SYNC = 0
const MSG_AWARENESS = 1
const MSG_AUTH = 2

const now = () => performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const stdinLines = readline.createInterface({ input: process.stdin })
const pendingAcks = []
stdinLines.on('line', () => {
  const resolve = pendingAcks.shift()
  if (resolve) resolve()
})

/** Print a mark and wait (at most 60 s) for the orchestrator to acknowledge it. */
async function mark (name) {
  process.stdout.write(`MARK ${name}\n`)
  await Promise.race([new Promise((resolve) => pendingAcks.push(resolve)), sleep(60000)])
}

/** Resolve when pred() is true, polling every `step` ms, or after `timeoutMs`. */
async function waitFor (pred, timeoutMs, step = 20) {
  const end = now() + timeoutMs
  while (!pred() && now() < end) await sleep(step)
  return pred()
}

/** One y-websocket client: a Y.Doc synced over a raw websocket. */
class Client {
  constructor (url) {
    this.url = url
    this.doc = new Y.Doc()
    this.ws = null
    this.synced = false
    this.t0 = 0
    this.syncMs = null
    this.closeCode = null
    this.error = null
    this.framesIn = 0
    this.bytesIn = 0
    this.permissionDenied = 0
  }

  /** Run a local change and send its update. The 'update' listener lives only for this
   * transaction: a permanent one would make Yjs encode every remote transaction too. */
  change (fn) {
    const send = (update) => {
      if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_SYNC)
      syncProtocol.writeUpdate(enc, update)
      this.ws.send(encoding.toUint8Array(enc))
    }
    this.doc.on('update', send)
    try {
      this.doc.transact(fn)
    } finally {
      this.doc.off('update', send)
    }
  }

  connect () {
    this.t0 = now()
    // browsers offer permessage-deflate; `deflate: true` does the same, default off like y-websocket's Node servers
    const ws = new WebSocket(this.url, { perMessageDeflate: DEFLATE, maxPayload: 256 * 1024 * 1024 })
    ws.binaryType = 'nodebuffer'
    this.ws = ws
    ws.on('open', () => {
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_SYNC)
      syncProtocol.writeSyncStep1(enc, this.doc)
      ws.send(encoding.toUint8Array(enc))
    })
    ws.on('message', (data) => this.onMessage(data))
    ws.on('close', (code) => { this.closeCode = code })
    ws.on('error', (err) => { this.error = String(err && err.message ? err.message : err) })
  }

  onMessage (data) {
    this.framesIn++
    this.bytesIn += data.byteLength
    const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    const type = decoding.readVarUint(decoder)
    if (type === MSG_SYNC) {
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_SYNC)
      const syncType = syncProtocol.readSyncMessage(decoder, enc, this.doc, this)
      if (encoding.length(enc) > 1) this.ws.send(encoding.toUint8Array(enc))
      if (syncType === syncProtocol.messageYjsSyncStep2 && !this.synced) {
        this.synced = true
        this.syncMs = now() - this.t0
        this.syncBytes = this.bytesIn
      }
    } else if (type === MSG_AUTH) {
      this.permissionDenied++
    }
    // MSG_AWARENESS and others: editors here do not render presence, so it is not decoded.
  }

  close () {
    if (this.ws !== null) this.ws.terminate()
  }
}

function percentile (sorted, p) {
  if (sorted.length === 0) return null
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]
}

function summary (clients) {
  return {
    synced: clients.filter((c) => c.synced).length,
    closeCodes: clients.map((c) => c.closeCode).filter((c) => c !== null),
    errors: [...new Set(clients.map((c) => c.error).filter((e) => e !== null))].slice(0, 5)
  }
}

async function openAll (urls, timeoutMs) {
  const clients = urls.map((u) => new Client(u))
  for (const c of clients) c.connect()
  await waitFor(() => clients.every((c) => c.synced || c.closeCode !== null), timeoutMs)
  return clients
}

/** N editors type into random cells at `rate` edits/s each; measures delivery latency. */
async function runEdit (cfg) {
  const { n, rate, duration, drain = 10, seed = 1, viewers = 0 } = cfg
  // `urls` (optional): editor i joins urls[i % urls.length] (e.g. the hubs of a cluster, the
  // first being the one that should load the room); otherwise every editor joins `url`
  const urls = Array.isArray(cfg.urls) && cfg.urls.length ? cfg.urls : [cfg.url]
  let rnd = seed >>> 0
  const random = () => { rnd = (rnd * 1664525 + 1013904223) >>> 0; return rnd / 4294967296 }
  // one editor first, so the room is loaded before the others join (the fresh-room race is
  // measured on its own by the `fresh` mode)
  const first = await openAll([urls[0]], 30000)
  const rest = Array.from({ length: n - 1 }, (_, i) => urls[(i + 1) % urls.length])
  const clients = [...first, ...(await openAll(rest, 30000))]
  const base = summary(clients)
  if (base.synced < n) return { error: 'not all editors synced', ...base }
  // a lecture: `viewers` more clients join `viewerUrl` (a view link), never type, and count
  // as receivers of every edit (marks around their joining let the server's RSS be read)
  let audience = []
  if (viewers > 0) {
    await mark('viewers-before')
    audience = await openAll(Array.from({ length: viewers }, () => cfg.viewerUrl || urls[0]), 120000)
    await mark('viewers-after')
    const joined = summary(audience)
    if (joined.synced < viewers) return { error: 'not all viewers synced', ...joined }
  }
  const cellCount = clients[0].doc.getArray('cells').length
  if (cellCount === 0) return { error: 'document has no cells', ...base }

  // sender clientID -> {clocks, times}: the clock reached after edit k, and its send time
  const sent = new Map()
  for (const c of clients) sent.set(c.doc.clientID, { clocks: [], times: [] })
  const latencies = []
  const worst = {} // 250 ms bucket of send time -> the largest latency of an edit sent in it
  let wall0 = now()
  let delivered = 0
  let totalSent = 0
  // with several urls: latencies per (sender's url index, receiver's url index)
  const groupOf = new Map(clients.map((c, i) => [c.doc.clientID, i % urls.length]))
  const pathLat = new Map()
  for (const [ri, r] of [...clients, ...audience].entries()) {
    const rg = ri % urls.length
    const next = new Map() // sender clientID -> index of its first edit not yet seen here
    r.doc.on('afterTransaction', (tr) => {
      if (tr.local) return
      const t = now()
      tr.afterState.forEach((clock, client) => {
        const rec = sent.get(client)
        if (rec === undefined || client === r.doc.clientID) return
        let i = next.get(client) || 0
        while (i < rec.clocks.length && rec.clocks[i] <= clock) {
          const lat = t - rec.times[i]
          latencies.push(lat)
          if (urls.length > 1) {
            const key = `${groupOf.get(client)}>${rg}`
            if (!pathLat.has(key)) pathLat.set(key, [])
            pathLat.get(key).push(lat)
          }
          const bucket = Math.floor((rec.times[i] - wall0) / 250)
          if (!(bucket in worst) || worst[bucket] < lat) worst[bucket] = lat
          delivered++
          i++
        }
        next.set(client, i)
      })
    })
  }

  const letters = 'abcdefghijklmnopqrstuvwxyz '
  const edit = (c) => {
    const cells = c.doc.getArray('cells')
    const cell = cells.get(Math.floor(random() * cells.length))
    const text = cell && cell.get('source')
    if (!(text instanceof Y.Text)) return
    const pos = Math.floor(random() * (text.length + 1))
    const rec = sent.get(c.doc.clientID)
    const t = now()
    c.change(() => text.insert(pos, letters[Math.floor(random() * letters.length)]))
    rec.clocks.push(Y.getState(c.doc.store, c.doc.clientID))
    rec.times.push(t)
    totalSent++
  }

  await mark('edit-start')
  // how late this process's event loop ran: if high, latencies include load-gen queueing
  const loop = monitorEventLoopDelay({ resolution: 5 })
  loop.enable()
  const cpu0 = process.cpuUsage()
  wall0 = now()
  const epoch0 = Date.now() / 1000
  const period = 1000 / rate
  const timers = []
  for (const c of clients) {
    // random phase so that editors do not all type in the same millisecond
    timers.push(setTimeout(() => {
      edit(c)
      timers.push(setInterval(() => edit(c), period))
    }, random() * period))
  }
  await sleep(duration * 1000)
  for (const t of timers) { clearTimeout(t); clearInterval(t) }
  const expected = totalSent * (n - 1 + audience.length)
  await waitFor(() => delivered >= expected, drain * 1000, 10)
  const wall = (now() - wall0) / 1000
  const cpu = process.cpuUsage(cpu0)
  loop.disable()
  await mark('edit-end')

  latencies.sort((a, b) => a - b)
  const after = summary(clients)
  for (const c of [...clients, ...audience]) c.close()
  // per url (when several): the latency of the edits each group of editors received
  const byPath = urls.length > 1 ? perPath(pathLat) : undefined
  return {
    n,
    viewers: audience.length,
    rate,
    duration,
    cells: cellCount,
    sent: totalSent,
    expected,
    delivered,
    framesIn: clients.reduce((s, c) => s + c.framesIn, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : null,
    mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null,
    windowS: wall,
    // when the slowest deliveries were sent (s into the window): a stall shows as a cluster
    startEpoch: epoch0,
    worstWindows: Object.entries(worst).sort((a, b) => b[1] - a[1]).slice(0, 5)
      .map(([b, lat]) => ({ atS: Number(b) / 4, maxMs: Math.round(lat) })),
    loadgenCpuShare: (cpu.user + cpu.system) / 1e6 / wall,
    loopDelayP99: loop.percentile(99) / 1e6 - 5,
    loopDelayMax: loop.max / 1e6 - 5,
    stillOpen: clients.filter((c) => c.closeCode === null).length,
    closeCodes: after.closeCodes,
    errors: after.errors,
    editorsPerUrl: urls.map((_, k) => clients.filter((_, i) => i % urls.length === k).length),
    byPath
  }
}

/** {from, to, count, p50, p99} per (sender's url index, receiver's url index). */
function perPath (pathLat) {
  return [...pathLat.entries()].sort().map(([key, lat]) => {
    lat.sort((a, b) => a - b)
    const [from, to] = key.split('>').map(Number)
    return { from, to, count: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99) }
  })
}

/** Connect -> synced time of a new client, `tries` times, one after the other. */
async function runSync (cfg) {
  const { tries = 7, timeout = 60 } = cfg
  // `urls` (optional): try i goes to urls[i % urls.length], so that several ways in (e.g. the
  // hubs of a cluster) alternate under the same machine load; `urlIndex[k]` says whose times[k]
  const urls = Array.isArray(cfg.urls) && cfg.urls.length ? cfg.urls : [cfg.url]
  const times = []
  const urlIndex = []
  const cells = []
  const bytes = [] // bytes received up to and including sync step 2
  const failures = []
  for (let i = 0; i < tries; i++) {
    if (i === 1) await mark('sync-warm-start') // try 0 opened the room cold
    const c = new Client(urls[i % urls.length])
    c.connect()
    await waitFor(() => c.synced || c.closeCode !== null, timeout * 1000, 1)
    if (c.synced) {
      times.push(c.syncMs)
      urlIndex.push(i % urls.length)
      bytes.push(c.syncBytes)
      cells.push(c.doc.getArray('cells').length)
    } else {
      failures.push({ closeCode: c.closeCode, error: c.error })
    }
    c.close()
    await sleep(200)
  }
  if (tries > 1) await mark('sync-warm-end')
  const sorted = [...times].sort((a, b) => a - b)
  return { tries, times, urlIndex, median: percentile(sorted, 50), cells, bytes, failures }
}

/** One awareness update (y-protocols/awareness encoding) setting a client's presence. */
function presenceFrame (clientID, i) {
  const state = { user: { name: `viewer ${i}`, color: '#30bced' }, cursor: null }
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, clientID)
  encoding.writeVarUint(update, 1)
  encoding.writeVarString(update, JSON.stringify(state))
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MSG_AWARENESS)
  encoding.writeVarUint8Array(enc, encoding.toUint8Array(update))
  return encoding.toUint8Array(enc)
}

/** Open `count` idle synced connections to one room, for the server's RSS per connection;
 * with `presence`, each sets its presence (a name and colour, as the page does) once synced. */
async function runIdle (cfg) {
  const { url, count = 500, batch = 50, timeout = 60, presence = false } = cfg
  const warm = await openAll([url], timeout * 1000)
  await sleep(500)
  await mark('idle-before')
  const clients = []
  for (let i = 0; i < count; i += batch) {
    const chunk = Array(Math.min(batch, count - i)).fill(url).map((u) => new Client(u))
    for (const c of chunk) c.connect()
    clients.push(...chunk)
    await waitFor(() => chunk.every((c) => c.synced || c.closeCode !== null), timeout * 1000)
    if (presence) chunk.forEach((c, j) => c.synced && c.ws.send(presenceFrame(c.doc.clientID, i + j)))
  }
  await sleep(presence ? 3000 : 1000)
  const s = summary(clients)
  await mark('idle-after')
  const stillOpen = clients.filter((c) => c.closeCode === null).length
  for (const c of [...warm, ...clients]) c.close()
  return { count, ...s, stillOpen, closeCodes: [...new Set(s.closeCodes)] }
}

/** `count` clients open one fresh room in the same tick: how many get synced. */
async function runFresh (cfg) {
  const { url, count = 20, timeout = 10 } = cfg
  const clients = await openAll(Array(count).fill(url), timeout * 1000)
  const s = summary(clients)
  const times = clients.filter((c) => c.synced).map((c) => c.syncMs).sort((a, b) => a - b)
  for (const c of clients) c.close()
  return { count, ...s, closeCodes: [...new Set(s.closeCodes)], maxSyncMs: times.length ? times[times.length - 1] : null }
}

const modes = { edit: runEdit, sync: runSync, idle: runIdle, fresh: runFresh }

async function main () {
  const cfg = CONFIG
  const run = modes[cfg.mode]
  if (run === undefined) throw new Error(`unknown mode ${cfg.mode}`)
  const result = await run(cfg)
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  process.exit(0)
}

// Hard stop, whatever happens: no run of this tool outlives its budget.
setTimeout(() => { process.stderr.write('loadgen: global timeout\n'); process.exit(3) },
  (Number(CONFIG.budget) || 600) * 1000).unref()
main().catch((err) => { process.stderr.write(`loadgen: ${err && err.stack ? err.stack : err}\n`); process.exit(2) })
