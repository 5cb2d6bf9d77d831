import { describe, expect, it } from 'vitest'
import { initialSave, nextSave, saveLabel, type SaveEvent } from '../src/model/saveState'

const run = (...events: SaveEvent[]) => events.reduce(nextSave, initialSave)

describe('save indicator', () => {
  it('syncs, then says synced', () => {
    expect(saveLabel(run({ type: 'edited' }))).toEqual({ tone: 'syncing', text: 'Syncing…' })
    expect(saveLabel(run({ type: 'edited' }, { type: 'acknowledged' })).tone).toBe('synced')
  })

  it('names the time of a save until the next edit', () => {
    const at = new Date(2024, 0, 1, 9, 5).getTime() / 1000
    const saved = run({ type: 'edited' }, { type: 'saving' }, { type: 'saved', at })
    expect(saveLabel(saved)).toEqual({ tone: 'saved', text: 'Saved 09:05' })
    expect(saveLabel(nextSave(saved, { type: 'edited' })).text).toBe('Syncing…')
    expect(saveLabel(nextSave(nextSave(saved, { type: 'edited' }), { type: 'acknowledged' })).text).toBe('All changes synced')
  })

  it('offline keeps the changes and says so', () => {
    const off = run({ type: 'edited' }, { type: 'online', online: false })
    expect(saveLabel(off)).toEqual({ tone: 'offline', text: 'Offline — changes kept' })
    expect(saveLabel(nextSave(off, { type: 'online', online: true })).text).toBe('Syncing…')
  })

  it('a failed save goes back to what it was', () => {
    expect(saveLabel(run({ type: 'saving' }, { type: 'save-failed' })).text).toBe('All changes synced')
  })

  it('after a final close (link revoked, session deleted) says unsent changes were not sent, or nothing', () => {
    const cut = run({ type: 'edited' }, { type: 'acknowledged' }, { type: 'online', online: false }, { type: 'closed' })
    expect(saveLabel(cut)).toEqual({ tone: 'closed', text: '' })
    const editedAfter = nextSave(cut, { type: 'edited' })
    expect(saveLabel(editedAfter)).toEqual({ tone: 'closed', text: 'Not sent: changes since the connection closed' })
    // nothing acknowledges them or brings the connection back
    expect(saveLabel(nextSave(nextSave(editedAfter, { type: 'acknowledged' }), { type: 'online', online: true })).tone).toBe('closed')
    expect(saveLabel(run({ type: 'edited' }, { type: 'closed' })).text).toBe('Not sent: changes since the connection closed')
  })
})
