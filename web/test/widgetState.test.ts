import { describe, expect, it } from 'vitest'
import { changedKeys, pick, readEntry, withBuffers, type WidgetEntry } from '../src/widgets/entry'
import { dependencyOrder, references } from '../src/widgets/order'
import { planOutput } from '../src/model/outputs'

const entry = (state: Record<string, unknown>, extra: Record<string, unknown> = {}): WidgetEntry => {
  const read = readEntry({ model_name: 'IntSliderModel', model_module: '@jupyter-widgets/controls', model_module_version: '2.0.0', state, ...extra })
  if (!read) throw new Error('not an entry')
  return read
}

describe('widget map entries', () => {
  it('reads an entry and skips what is not one', () => {
    expect(entry({ value: 3 })).toMatchObject({ model_name: 'IntSliderModel', state: { value: 3 }, buffers: [], gone: false })
    expect(entry({}, { gone: true }).gone).toBe(true)
    expect(readEntry(null)).toBeNull()
    expect(readEntry({ model_name: 'X', model_module: 'm' })).toBeNull()
    expect(readEntry({ model_name: 1, model_module: 'm', state: {} })).toBeNull()
    // Bad buffers are dropped, good ones kept.
    const e = entry({}, { buffers: [{ path: ['value'], data: 'AQID' }, { path: [], data: 'AA==' }, { path: ['x'], data: 5 }, 'junk'] })
    expect(e.buffers).toEqual([{ path: ['value'], data: 'AQID' }])
  })

  it('puts buffers back at their paths as DataViews, without touching the map value', () => {
    const state = { value: null, nested: { list: [0, null] }, description: 'img' }
    const out = withBuffers(state, [
      { path: ['value'], data: 'AQID' },
      { path: ['nested', 'list', 1], data: '/w==' },
      { path: ['missing', 'deep'], data: 'AA==' },
    ])
    expect(out.value).toBeInstanceOf(DataView)
    expect([...new Uint8Array((out.value as DataView).buffer)]).toEqual([1, 2, 3])
    const list = (out.nested as { list: unknown[] }).list
    expect(list[0]).toBe(0)
    expect((list[1] as DataView).getUint8(0)).toBe(255)
    expect(out.description).toBe('img')
    expect('missing' in out).toBe(false)
    expect(state.value).toBeNull()
  })

  it('finds the keys that changed, buffers included', () => {
    const before = entry({ value: 1, max: 10, layout: 'IPY_MODEL_a' }, { buffers: [{ path: ['img'], data: 'AA==' }] })
    const after = entry({ value: 2, max: 10, layout: 'IPY_MODEL_a' }, { buffers: [{ path: ['img'], data: 'AQ==' }] })
    expect(changedKeys(before, after).sort()).toEqual(['img', 'value'])
    expect(changedKeys(null, after).sort()).toEqual(['img', 'layout', 'max', 'value'])
    expect(pick(after, ['value', 'img'])).toEqual({ state: { value: 2 }, buffers: [{ path: ['img'], data: 'AQ==' }] })
  })
})

describe('dependency order', () => {
  it('finds references anywhere in a state', () => {
    expect([...references({ children: ['IPY_MODEL_a', 'IPY_MODEL_b'], layout: 'IPY_MODEL_c', x: { y: ['IPY_MODEL_d'] }, s: 'IPY_MODEL_' })]).toEqual(['a', 'b', 'c', 'd'])
  })

  it('puts every model after those it refers to', () => {
    const states = new Map<string, Record<string, unknown>>([
      ['box', { children: ['IPY_MODEL_slider', 'IPY_MODEL_out'], layout: 'IPY_MODEL_boxlayout' }],
      ['slider', { layout: 'IPY_MODEL_sl', style: 'IPY_MODEL_ss' }],
      ['out', { layout: 'IPY_MODEL_ol' }],
      ['sl', {}], ['ss', {}], ['ol', {}], ['boxlayout', {}],
    ])
    const order = dependencyOrder(states)
    expect(order.sort()).toEqual([...states.keys()].sort())
    const at = (id: string): number => dependencyOrder(states).indexOf(id)
    for (const [id, state] of states) for (const ref of references(state)) expect(at(ref)).toBeLessThan(at(id))
  })

  it('survives cycles, missing references and long chains', () => {
    const cyc = new Map<string, Record<string, unknown>>([['a', { c: 'IPY_MODEL_b' }], ['b', { c: 'IPY_MODEL_a' }], ['c', { x: 'IPY_MODEL_zzz' }]])
    expect(dependencyOrder(cyc).sort()).toEqual(['a', 'b', 'c'])
    const chain = new Map<string, Record<string, unknown>>()
    for (let i = 0; i < 20000; i++) chain.set(`m${i}`, { next: `IPY_MODEL_m${i + 1}` })
    const order = dependencyOrder(chain)
    expect(order[0]).toBe('m19999')
    expect(order[order.length - 1]).toBe('m0')
  })
})

describe('widget outputs', () => {
  it('plans a widget view ahead of its text, and falls back when the reference is bad', () => {
    const data = { 'application/vnd.jupyter.widget-view+json': { model_id: 'abc123', version_major: 2, version_minor: 0 }, 'text/plain': 'IntSlider(value=0)' }
    expect(planOutput({ output_type: 'display_data', data })).toEqual({ kind: 'widget', modelId: 'abc123', text: 'IntSlider(value=0)' })
    const bad = { ...data, 'application/vnd.jupyter.widget-view+json': { model_id: '<img src=x>' } }
    expect(planOutput({ output_type: 'display_data', data: bad })).toEqual({ kind: 'text', text: 'IntSlider(value=0)' })
  })
})
