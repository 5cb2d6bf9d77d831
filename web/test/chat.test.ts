import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  cellRefs, ChatApi, ChatSender, chatMessages, commentCounts, draftProblem, mentions, searchMessages,
  messagesOf, readMessages, threads, Unread, type ChatMessage,
} from '../src/model/chat'

const by = { name: 'Ann', client_id: 1 }
const msg = (id: string, extra: Partial<ChatMessage> = {}): ChatMessage =>
  ({ id, by: { name: 'Bo', client_id: 2 }, at: 100, text: id, ...extra })

describe('reading the chat array', () => {
  it('skips junk, keeps the last version of an id, and hides hidden text', () => {
    const read = readMessages([
      null, 3, 'x', { text: 'no id' }, { id: 'a', text: 'first', by: { name: 'A', client_id: 1 }, at: 1 },
      { id: 'b', text: 'secret', hidden: true, hidden_by: 'Ed', by: 'nonsense' },
      { id: 'a', text: 'edited', by: { name: 'A', client_id: 1, verified: true }, at: 1, resolved: 'yes' },
    ])
    expect(read.map((m) => m.id)).toEqual(['b', 'a'])
    expect(read[0]).toMatchObject({ text: '', hidden: true, hidden_by: 'Ed', by: { name: 'anonymous', client_id: null } })
    expect(read[1].text).toBe('edited')
    expect(read[1].by.verified).toBe(true)
    expect(read[1].resolved).toBeUndefined()
  })
})

describe('threads on cells', () => {
  const all = [
    msg('chat1'),
    msg('t1', { cell_id: 'c1' }),
    msg('r1', { cell_id: 'c1', reply_to: 't1' }),
    msg('t2', { cell_id: 'c1', resolved: true }),
    msg('t3', { cell_id: 'gone' }),
    msg('orphan', { reply_to: 'nothing', cell_id: 'c1' }),
  ]
  it('groups replies under their thread and marks a thread on a deleted cell', () => {
    const found = threads(all, new Set(['c1', 'c2']))
    expect(found.map((t) => [t.root.id, t.replies.map((r) => r.id), t.resolved, t.onDeletedCell])).toEqual([
      ['t1', ['r1'], false, false],
      ['t2', [], true, false],
      ['t3', [], false, true],
    ])
    expect(commentCounts(found).get('c1')).toEqual({ open: 2, threads: 2, resolved: 1 })
    expect(chatMessages(all).map((m) => m.id)).toEqual(['chat1'])
  })
  it('a comment follows its cell: it is keyed by id, not position', () => {
    const doc = new Y.Doc()
    const cells = doc.getArray<string>('cells')
    cells.push(['c1', 'c2'])
    const found = () => threads(all, new Set(cells.toArray())).filter((t) => t.cellId === 'c1').length
    expect(found()).toBe(2)
    doc.transact(() => { cells.delete(0, 1); cells.push(['c1']) })
    expect(found()).toBe(2)
  })
})

describe('searching the chat', () => {
  it('finds words in the text or the name, any case, never in hidden messages', () => {
    const all = [
      msg('a', { text: 'where is the Needle?' }),
      msg('b', { text: 'hello', by: { name: 'Needle Person', client_id: 3 } }),
      msg('c', { text: '', hidden: true }),
      msg('d', { text: 'nothing' }),
    ]
    expect(searchMessages(all, ' needle ').map((m) => m.id)).toEqual(['a', 'b'])
    expect(searchMessages(all, '  ')).toEqual([])
  })
})

describe('words', () => {
  it('finds @mentions of the whole name or its first word', () => {
    expect(mentions('hey @ann, look', 'Ann')).toBe(true)
    expect(mentions('@Ann Lee see #3', 'Ann Lee')).toBe(true)
    expect(mentions('@Ann', 'Ann Lee')).toBe(true)
    expect(mentions('@Annabel', 'Ann')).toBe(false)
    expect(mentions('mail ann@x.org', 'Ann')).toBe(false)
    expect(mentions('@a.b', 'a.b')).toBe(true)
    expect(mentions('@axb', 'a.b')).toBe(false)
  })
  it('finds cell references', () => {
    expect(cellRefs('see cell 4 and #12, not a#3 or &#39; or cell4')).toEqual([
      { text: 'see ' }, { text: 'cell 4', cell: 4 }, { text: ' and ' }, { text: '#12', cell: 12 },
      { text: ', not a#3 or &#39; or cell4' },
    ])
    expect(cellRefs('Cell 1')).toEqual([{ text: 'Cell 1', cell: 1 }])
  })
  it('checks drafts', () => {
    expect(draftProblem('  ')).toMatch(/Write/)
    expect(draftProblem('x'.repeat(5), 4)).toMatch(/at most 4/)
    expect(draftProblem('ok')).toBeNull()
  })
})

describe('unread', () => {
  it('counts others\' new messages until seen', () => {
    const u = new Unread()
    u.prime([msg('old')])
    const now = [msg('old'), msg('mine', { by: { name: 'Ann', client_id: 1 } }), msg('new'), msg('gone', { hidden: true })]
    expect(u.count(now, 1)).toBe(1)
    const announced = new Set<string>()
    expect(u.fresh(now, announced).map((m) => m.id)).toEqual(['mine', 'new', 'gone'])
    expect(u.fresh(now, announced)).toEqual([])
    u.markSeen(now)
    expect(u.count(now, 1)).toBe(0)
  })
})

describe('sending', () => {
  it('every page posts through the hub and never writes the array itself', async () => {
    const doc = new Y.Doc()
    const post = vi.fn(async () => ({ message: msg('fromhub') }))
    const sender = new ChatSender({ api: { post }, me: () => by })
    expect((await sender.send({ text: 'hello', cell_id: 'c1' })).id).toBe('fromhub')
    expect(post).toHaveBeenCalledWith({ text: 'hello', cell_id: 'c1' }, by)
    expect(messagesOf(doc)).toHaveLength(0) // the hub writes it; the document says so when it comes
    await expect(sender.send({ text: ' ' })).rejects.toThrow(/Write/)
    expect(post).toHaveBeenCalledTimes(1)
  })
  it('shows that the hub corrected a name', () => {
    const [m] = readMessages([{ id: 'f', text: 'x', at: 1, by: { name: 'Ann', client_id: 3, corrected: true } }])
    expect(m.by).toEqual({ name: 'Ann', client_id: 3, corrected: true })
  })
  it('the API sends the token in a header and the name with the message', async () => {
    const calls: [string, RequestInit | undefined][] = []
    const api = new ChatApi('http://h', 's1', 'tok', async (url, init) => {
      calls.push([url, init])
      return new Response(JSON.stringify({ message: msg('x') }), { status: 201 })
    })
    await api.post({ text: 'hi', cell_id: 'c' }, by)
    await api.resolve('m/1', true)
    expect(calls[0][0]).toBe('http://h/api/sessions/s1/chat')
    expect(JSON.parse(String(calls[0][1]?.body))).toEqual({ text: 'hi', cell_id: 'c', name: 'Ann', client_id: 1 })
    expect((calls[0][1]?.headers as Record<string, string>).Authorization).toBe('Bearer tok')
    expect(calls[1][0]).toBe('http://h/api/sessions/s1/chat/m%2F1/resolve')
  })
})
