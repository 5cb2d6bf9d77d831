// @vitest-environment jsdom
/**
 * The manager with the real widget libraries on a real Y.Map: entries become models, the hub's
 * changes reach them without being sent back, a model's own changes are posted, viewers post
 * nothing, a removed entry closes its model.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { WidgetChange } from '../src/widgets/comm'

// jsdom has no DragEvent, which Lumino's drag and drop subclasses when it loads.
;(globalThis as Record<string, unknown>).DragEvent ??= class extends MouseEvent {}
const { CollabWidgetManager } = await import('../src/widgets/manager')

const controls = (name: string, state: Record<string, unknown>): Record<string, unknown> => ({
  model_name: name, model_module: '@jupyter-widgets/controls', model_module_version: '2.0.0', state,
})
const layout = { model_name: 'LayoutModel', model_module: '@jupyter-widgets/base', model_module_version: '2.0.0', state: { _model_name: 'LayoutModel', _model_module: '@jupyter-widgets/base', _model_module_version: '2.0.0', _view_name: 'LayoutView', _view_module: '@jupyter-widgets/base', _view_module_version: '2.0.0' } }
const sliderState = (value: number): Record<string, unknown> => ({
  _model_name: 'IntSliderModel', _model_module: '@jupyter-widgets/controls', _model_module_version: '2.0.0',
  _view_name: 'IntSliderView', _view_module: '@jupyter-widgets/controls', _view_module_version: '2.0.0',
  value, min: 0, max: 10, step: 1, description: 'x', disabled: false, layout: 'IPY_MODEL_lay', style: 'IPY_MODEL_sty',
})
const style = controls('SliderStyleModel', { _model_name: 'SliderStyleModel', _model_module: '@jupyter-widgets/controls', _model_module_version: '2.0.0', _view_name: 'StyleView', _view_module: '@jupyter-widgets/base', _view_module_version: '2.0.0', description_width: '', handle_color: null })

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 80))

function setup(readOnly: boolean) {
  const doc = new Y.Doc()
  const map = doc.getMap<unknown>('widgets')
  const posted: [string, WidgetChange][] = []
  const manager = new CollabWidgetManager({
    map, readOnly, by: () => ({ name: 'Ada', client_id: 1 }), clean: (h) => h.replace(/<img[^>]*>/g, ''),
    post: async (id, body) => { posted.push([id, body]); return true },
  })
  // The slider first: it refers to models that come after it in the same transaction.
  doc.transact(() => {
    map.set('sl', controls('IntSliderModel', sliderState(3)))
    map.set('lay', layout)
    map.set('sty', style)
  })
  return { doc, map, posted, manager }
}

describe('the page widget manager', () => {
  it('makes models from the map and applies the hub changes without echoing them', async () => {
    const { map, posted, manager } = setup(false)
    const slider = await manager.get_model('sl')
    expect(slider.get('value')).toBe(3)
    expect((slider.get('layout') as { model_id: string }).model_id).toBe('lay')
    map.set('sl', controls('IntSliderModel', sliderState(7)))
    await settle()
    expect(slider.get('value')).toBe(7)
    expect(posted).toEqual([])
    // A change made on this page goes to the hub, with who made it.
    slider.set('value', 9)
    slider.save_changes()
    await settle()
    expect(posted).toEqual([['sl', { state: { value: 9 }, by: { name: 'Ada', client_id: 1 } }]])
    // The entry leaving the map closes the model.
    let closed = false
    slider.once('comm:close', () => { closed = true })
    map.delete('sl')
    await settle()
    expect(closed).toBe(true)
    expect(manager.has_model('sl')).toBe(false)
  })

  it('cleans HTML widget values and disables everything for a viewer, who posts nothing', async () => {
    const { map, posted, manager } = setup(true)
    map.set('h', controls('HTMLModel', { _model_name: 'HTMLModel', _view_name: 'HTMLView', value: '<b>hi</b><img src=x onerror=alert(1)>', layout: 'IPY_MODEL_lay' }))
    const html = await manager.get_model('h')
    expect(html.get('value')).toBe('<b>hi</b>')
    const slider = await manager.get_model('sl')
    expect(slider.get('disabled')).toBe(true)
    slider.set('value', 1)
    slider.save_changes()
    await settle()
    expect(posted).toEqual([])
  })

  it('shows a gone widget disabled with its last state', async () => {
    const { map, manager } = setup(false)
    const slider = await manager.get_model('sl')
    map.set('sl', { ...controls('IntSliderModel', sliderState(5)), gone: true })
    await settle()
    expect(manager.isGone('sl')).toBe(true)
    expect(slider.get('value')).toBe(5)
    expect(slider.get('disabled')).toBe(true)
  })
})

describe('a change on its way to the hub', () => {
  function slider() {
    const doc = new Y.Doc()
    const map = doc.getMap<unknown>('widgets')
    const answers: ((ok: boolean) => void)[] = []
    const manager = new CollabWidgetManager({
      map, readOnly: false, by: () => null, clean: (h) => h,
      post: () => new Promise<boolean>((resolve) => { answers.push(resolve) }),
    })
    doc.transact(() => {
      map.set('lay', layout)
      map.set('sty', style)
      map.set('sl', controls('IntSliderModel', sliderState(1)))
    })
    return { map, manager, answers }
  }

  it('is not undone by older values from the map, even when the answer comes before the map shows it', async () => {
    const { map, manager, answers } = slider()
    const model = await manager.get_model('sl')
    model.set('value', 8)
    model.save_changes()
    // The hub writes an older value (a kernel change made before ours arrived): held back.
    map.set('sl', controls('IntSliderModel', { ...sliderState(2), max: 20 }))
    await settle()
    expect(model.get('value')).toBe(8)
    expect(model.get('max')).toBe(20)
    // The hub took it; its write into the map has not arrived yet: the control stays.
    answers[0](true)
    await settle()
    expect(model.get('value')).toBe(8)
    // The map shows ours; later changes from the kernel count again.
    map.set('sl', controls('IntSliderModel', { ...sliderState(8), max: 20 }))
    await settle()
    map.set('sl', controls('IntSliderModel', { ...sliderState(6), max: 20 }))
    await settle()
    expect(model.get('value')).toBe(6)
  })

  it('shows the map value again at once when the hub refuses the change', async () => {
    const { map, manager, answers } = slider()
    const model = await manager.get_model('sl')
    model.set('value', 8)
    model.save_changes()
    map.set('sl', controls('IntSliderModel', sliderState(2)))
    answers[0](false)
    await settle()
    expect(model.get('value')).toBe(2)
  })
})
