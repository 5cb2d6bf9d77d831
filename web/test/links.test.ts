import { describe, expect, it } from 'vitest'
import { ApiError, type SessionInfo } from '../src/model/api'
import { checkLinkName, linkFailure, madeBy, orderLinks, readLinks, relativeTime } from '../src/model/links'
import { participants } from '../src/model/presence'
import { isReadOnly, powersOf } from '../src/model/roles'

const base: SessionInfo = { id: 's', path: 'nb.ipynb', role: 'edit', view_url: 'http://h/s/s#token=v', edit_url: 'http://h/s/s#token=e', edit_token: 'e', view_token: 'v' }

describe('what a link lets the page do', () => {
  it('the admin and the anonymous edit link own the session', () => {
    expect(powersOf(base, 'e')).toEqual({ edit: true, manageLinks: true, named: null, ownAnonymous: 'edit' })
    expect(powersOf({ ...base, role: 'admin' }, 'admin-token')).toMatchObject({ edit: true, manageLinks: true, ownAnonymous: null })
  })

  it('a viewer watches and manages nothing', () => {
    const viewer: SessionInfo = { id: 's', path: 'nb.ipynb', role: 'view', view_url: 'http://h/s/s#token=v' }
    expect(powersOf(viewer, 'v')).toEqual({ edit: false, manageLinks: false, named: null, ownAnonymous: null })
    expect(isReadOnly(viewer)).toBe(true)
  })

  it('a named link says who it is and is never the anonymous link', () => {
    const ada: SessionInfo = { id: 's', path: 'nb.ipynb', role: 'edit', view_url: 'http://h/s/s#token=v', view_token: 'v', link: { id: 'l1', name: 'Ada', role: 'edit', expires: null } }
    expect(powersOf(ada, 'named-token')).toEqual({ edit: true, manageLinks: true, named: { id: 'l1', name: 'Ada', role: 'edit' }, ownAnonymous: null })
  })

  it('a role the page does not know yet changes nothing; an owner role edits and owns', () => {
    expect(isReadOnly({ ...base, role: 'guest' as SessionInfo['role'] })).toBe(true)
    expect(powersOf({ ...base, role: 'guest' as SessionInfo['role'] }, 'x')).toMatchObject({ edit: false, manageLinks: false })
    expect(powersOf({ ...base, role: 'owner' as SessionInfo['role'] }, 'x')).toMatchObject({ edit: true, manageLinks: true })
  })
})

describe('named links', () => {
  const hub = {
    links: [
      { id: 'a', name: 'Ada', role: 'edit', created: 100, expires: null, revoked: null, last_seen: 150, created_by: null, status: 'active' },
      { id: 'b', name: 'Bob', role: 'view', created: 200, expires: 300, revoked: null, last_seen: null, created_by: 'a', status: 'expired' },
      { id: 'c', name: 'Cy', role: 'view', created: 300, expires: null, revoked: 400, last_seen: null, created_by: 'gone', status: 'revoked' },
      { id: 'd', name: 'Di', role: 'edit', created: 500, expires: null, revoked: null, last_seen: null, created_by: 'a', status: 'active' },
      { id: 7, name: 'bad' }, null,
    ],
  }

  it('reads the list, active ones first and newest first', () => {
    const links = readLinks(hub)
    expect(links.map((l) => l.id)).toEqual(['a', 'b', 'c', 'd'])
    expect(orderLinks(links).map((l) => l.id)).toEqual(['d', 'a', 'c', 'b'])
    expect(readLinks({})).toEqual([])
    expect(madeBy(links[1], links)).toBe('Ada')
    expect(madeBy(links[0], links)).toBe('an owner')
    expect(madeBy(links[2], links)).toBe('a removed link')
  })

  it('says when in words', () => {
    expect(relativeTime(null, 1000)).toBe('—')
    expect(relativeTime(null, 1000, 'never')).toBe('never')
    expect(relativeTime(990, 1000)).toBe('just now')
    expect(relativeTime(1000 - 180, 1000)).toBe('3 min ago')
    expect(relativeTime(1000 + 7200, 1000)).toBe('in 2 h')
    expect(relativeTime(1000 - 3 * 86_400, 1000)).toBe('3 d ago')
  })

  it('checks a name as the hub does', () => {
    expect(checkLinkName('  Ada ')).toEqual({ name: 'Ada' })
    expect(checkLinkName('  ')).toMatchObject({ error: expect.stringContaining('name') })
    expect(checkLinkName('x'.repeat(65))).toMatchObject({ error: expect.stringContaining('64') })
    expect(checkLinkName('a\u0007b')).toMatchObject({ error: expect.stringContaining('control') })
  })

  it('explains refusals', () => {
    expect(linkFailure('making the link', new ApiError(403, 'forbidden', 'x'))).toMatch(/Only the session's owners/)
    expect(linkFailure('making the link', new ApiError(409, 'too_many_links', 'x'))).toMatch(/too many links/)
    expect(linkFailure('making the link', new ApiError(422, 'bad_request', '"name" must be …'))).toBe('"name" must be …')
    expect(linkFailure('making the link', new ApiError(500, 'internal', 'boom'))).toMatch(/Making the link failed/)
    expect(linkFailure('making the link', null, false)).toMatch(/offline/)
  })
})

describe('verified names in presence', () => {
  it('takes the hub\'s mark, nothing else', () => {
    const people = participants(new Map<number, Record<string, unknown>>([
      [2, { user: { name: 'Ada', color: '#123456', verified: true } }],
      [3, { user: { name: 'Bob', color: '#123456', verified: 'yes' } }],
    ]), 1)
    expect(people.map((p) => [p.user.name, p.verified])).toEqual([['Ada', true], ['Bob', false]])
  })
})
