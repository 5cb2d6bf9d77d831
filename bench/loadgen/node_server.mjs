// Reference server for bench/hub_bench.py (`--targets ...,node`): a minimal y-websocket server
// on the real `yjs` + `y-protocols` + `ws`, like y-websocket's own Node server: one Y.Doc per
// room (room = path), sync step 1/2 answered from it, each update encoded once and sent to every
// other connection, awareness relayed. No persistence, no auth. A room is loaded synchronously
// on its first connection from `<root>/<path>` (an .ipynb, in the YNotebook schema), so there
// is no fresh-room race. It shows what the harness measures for a lean Node server.
//
// Usage: node node_server.mjs <port> <root>

import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { WebSocketServer } from 'ws'
import fs from 'node:fs'
import path from 'node:path'

const [port, root] = [Number(process.argv[2]), path.resolve(process.argv[3] || '.')]
const MSG_SYNC = 0
const MSG_AWARENESS = 1

/** @type {Map<string, {doc: Y.Doc, conns: Set<import('ws').WebSocket>}>} */
const rooms = new Map()

function loadNotebook (doc, file) {
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file)) return
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'))
  const text = (s) => Array.isArray(s) ? s.join('') : (s || '')
  doc.transact(() => {
    const cells = doc.getArray('cells')
    cells.push(nb.cells.map((c) => {
      const m = new Y.Map()
      m.set('id', c.id || '')
      m.set('cell_type', c.cell_type)
      m.set('source', new Y.Text(text(c.source)))
      m.set('metadata', new Y.Map(Object.entries(c.metadata || {})))
      if (c.cell_type === 'code') {
        m.set('outputs', new Y.Array())
        m.set('execution_count', c.execution_count ?? null)
      }
      return m
    }))
    const meta = doc.getMap('meta')
    meta.set('nbformat', nb.nbformat)
    meta.set('nbformat_minor', nb.nbformat_minor)
  })
}

function room (name) {
  let r = rooms.get(name)
  if (r === undefined) {
    const doc = new Y.Doc()
    loadNotebook(doc, path.resolve(root, '.' + path.sep + decodeURIComponent(name)))
    r = { doc, conns: new Set() }
    doc.on('update', (update, origin) => {
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MSG_SYNC)
      syncProtocol.writeUpdate(enc, update)
      const frame = encoding.toUint8Array(enc)
      for (const c of r.conns) if (c !== origin && c.readyState === 1) c.send(frame)
    })
    rooms.set(name, r)
  }
  return r
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false })
wss.on('connection', (ws, req) => {
  const r = room((req.url || '/').split('?')[0])
  r.conns.add(ws)
  ws.binaryType = 'nodebuffer'
  ws.on('message', (data) => {
    try {
      const dec = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      const type = decoding.readVarUint(dec)
      if (type === MSG_SYNC) {
        const enc = encoding.createEncoder()
        encoding.writeVarUint(enc, MSG_SYNC)
        syncProtocol.readSyncMessage(dec, enc, r.doc, ws)
        if (encoding.length(enc) > 1) ws.send(encoding.toUint8Array(enc))
      } else if (type === MSG_AWARENESS) {
        for (const c of r.conns) if (c !== ws && c.readyState === 1) c.send(data)
      }
    } catch (err) {
      ws.close(4400, 'malformed message')
    }
  })
  ws.on('close', () => r.conns.delete(ws))
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MSG_SYNC)
  syncProtocol.writeSyncStep1(enc, r.doc)
  ws.send(encoding.toUint8Array(enc))
})
wss.on('listening', () => process.stdout.write(`listening on ${port}\n`))
process.on('SIGTERM', () => process.exit(0))
