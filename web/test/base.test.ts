import { describe, expect, it } from 'vitest'
import { loginTarget, type Me } from '../src/model/api'
import { basePath, sharedRows, stripBase } from '../src/model/base'

describe('the page prefix', () => {
  it('is empty or has one leading slash and no trailing one', () => {
    expect(basePath(null)).toBe('')
    expect(basePath('')).toBe('')
    expect(basePath('/')).toBe('')
    expect(basePath('/services/collabd/')).toBe('/services/collabd')
    expect(basePath('services/collabd')).toBe('/services/collabd')
  })

  it('is taken off the path before routing', () => {
    expect(stripBase('/services/collabd/s/abc', '/services/collabd')).toBe('/s/abc')
    expect(stripBase('/services/collabd/', '/services/collabd')).toBe('/')
    expect(stripBase('/services/collabd', '/services/collabd')).toBe('/')
    expect(stripBase('/s/abc', '')).toBe('/s/abc')
    // A path that only starts with the same letters is not under the prefix.
    expect(stripBase('/services/collabdx/s/a', '/services/collabd')).toBe('/services/collabdx/s/a')
  })
})

describe('a signed-in home', () => {
  it('lists the shared sessions by path, with the role in words and a tokenless address', () => {
    const rows = sharedRows([
      { id: 'b/1', path: 'z.ipynb', role: 'view', url: 'x' },
      { id: 'a', path: 'a.ipynb', role: 'owner', owner: true, url: 'x', participants: 2 },
      { id: 'c', path: 'm.ipynb', role: 'edit', url: 'x' },
    ], 'https://hub.example/services/collabd')
    expect(rows).toEqual([
      { path: 'a.ipynb', role: 'owner', href: 'https://hub.example/services/collabd/s/a', participants: 2 },
      { path: 'm.ipynb', role: 'can edit', href: 'https://hub.example/services/collabd/s/c', participants: 0 },
      { path: 'z.ipynb', role: 'can view', href: 'https://hub.example/services/collabd/s/b%2F1', participants: 0 },
    ])
  })

  it('sends someone with no token to the hub to sign in, and only then', () => {
    const out: Me = { user: null, admin: false, groups: [], can_create: false, login_url: '/services/collabd/login' }
    expect(loginTarget(out, '/services/collabd/s/x')).toBe('/services/collabd/login?next=%2Fservices%2Fcollabd%2Fs%2Fx')
    expect(loginTarget({ ...out, user: 'alice' }, '/s/x')).toBeNull()
    expect(loginTarget({ ...out, login_url: null }, '/s/x')).toBeNull()
    expect(loginTarget(null, '/s/x')).toBeNull()
  })
})

describe('a signed-in user on a session page', () => {
  it('manages links only when the hub says they own it', async () => {
    const { powersOf } = await import('../src/model/roles')
    const info = { id: 's', path: 'a.ipynb', view_url: 'v' }
    expect(powersOf({ ...info, role: 'edit', owner: false }, '')).toMatchObject({ edit: true, manageLinks: false, ownAnonymous: null })
    expect(powersOf({ ...info, role: 'owner', owner: true }, '')).toMatchObject({ edit: true, manageLinks: true })
    expect(powersOf({ ...info, role: 'view', owner: false }, '')).toMatchObject({ edit: false, manageLinks: false })
  })
})
