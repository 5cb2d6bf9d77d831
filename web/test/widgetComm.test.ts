import { describe, expect, it } from 'vitest'
import { changeBody, HubComm, MIN_SEND_INTERVAL_MS, type WidgetChange } from '../src/widgets/comm'
import { cleanState, disabledState } from '../src/widgets/htmlState'

const by = { name: 'Ada', client_id: 7 }

describe('comm shim → POST body', () => {
  it('turns an update into changed state with base64 buffers at their paths', () => {
    const body = changeBody({ method: 'update', state: { value: 5, data: null }, buffer_paths: [['data']] }, [new Uint8Array([1, 2, 3])], by)
    expect(body).toEqual({ state: { value: 5, data: null }, buffers: [{ path: ['data'], data: 'AQID' }], by })
    expect(changeBody({ method: 'update', state: { value: 1 } }, undefined, null)).toEqual({ state: { value: 1 } })
    // A view of part of an ArrayBuffer sends only its bytes.
    const whole = new Uint8Array([9, 1, 2, 9])
    const part = changeBody({ method: 'update', state: {}, buffer_paths: [['b']] }, [new DataView(whole.buffer, 1, 2)], null)
    expect(part?.buffers).toEqual([{ path: ['b'], data: 'AQI=' }])
  })

  it('turns a custom message into `custom`, and asks nothing for other methods', () => {
    expect(changeBody({ method: 'custom', content: { event: 'click' } }, undefined, by)).toEqual({ custom: { event: 'click' }, by })
    expect(changeBody({ method: 'request_state' }, undefined, by)).toBeNull()
    expect(changeBody('x', undefined, by)).toBeNull()
  })

  it('posts what a model sends, then tells the model the send is done', async () => {
    const posted: [string, WidgetChange][] = []
    const events: string[] = []
    let answer: (ok: boolean) => void = () => {}
    const comm = new HubComm('m1', {
      post: (id, body) => {
        posted.push([id, body])
        return new Promise<boolean>((resolve) => { answer = resolve })
      },
      by: () => by,
      sending: (id, change) => events.push(`sending ${id} ${Object.keys(change.state ?? {}).join()}`),
      sent: (id, change, ok) => events.push(`sent ${id} ${Object.keys(change.state ?? {}).join()} ${ok}`),
    })
    let idle = 0
    comm.send({ method: 'update', state: { value: 3 }, buffer_paths: [] }, { iopub: { status: () => { idle++ } } })
    expect(posted).toEqual([['m1', { state: { value: 3 }, by }]])
    expect(events).toEqual(['sending m1 value'])
    expect(idle).toBe(0)
    answer(true)
    // Not before MIN_SEND_INTERVAL_MS since it was sent: a drag's changes are merged meanwhile.
    await new Promise((r) => setTimeout(r, 5))
    expect(idle).toBe(0)
    await new Promise((r) => setTimeout(r, MIN_SEND_INTERVAL_MS))
    expect(idle).toBe(1)
    expect(events).toEqual(['sending m1 value', 'sent m1 value true'])
  })

  it('sends nothing for a viewer, and hands map changes to the model as kernel updates', async () => {
    const comm = new HubComm('m2', { post: null, by: () => by })
    let idle = 0
    comm.send({ method: 'update', state: { value: 3 } }, { iopub: { status: () => { idle++ } } })
    await Promise.resolve()
    expect(idle).toBe(1)
    const got: unknown[] = []
    let closed = false
    comm.on_msg((m) => got.push(m))
    comm.on_close(() => { closed = true })
    comm.receive({ value: 4 })
    expect(got).toEqual([{ content: { comm_id: 'm2', data: { method: 'update', state: { value: 4 }, buffer_paths: [] } }, buffers: [] }])
    comm.closed()
    expect(closed).toBe(true)
  })
})

describe('HTML-bearing state', () => {
  const clean = (html: string): string => `clean(${html})`

  it('cleans the value of HTML and HTMLMath, nothing else', () => {
    expect(cleanState('@jupyter-widgets/controls', 'HTMLModel', { value: '<b>x</b>', description: 'd' }, clean)).toEqual({ value: 'clean(<b>x</b>)', description: 'd' })
    expect(cleanState('@jupyter-widgets/controls', 'HTMLMathModel', { value: 5 }, clean)).toEqual({ value: '' })
    expect(cleanState('@jupyter-widgets/controls', 'TextModel', { value: '<b>' }, clean)).toEqual({ value: '<b>' })
  })

  it('drops class and module names that are not names (they end up in HTML error messages)', () => {
    const state = { _view_name: '<img src=x onerror=alert(1)>', _model_name: 'IntSliderModel', _view_module: '@jupyter-widgets/controls', _view_module_version: '^2.0.0' }
    expect(cleanState('@jupyter-widgets/controls', 'IntSliderModel', state, clean)).toEqual({ _model_name: 'IntSliderModel', _view_module: '@jupyter-widgets/controls', _view_module_version: '^2.0.0' })
  })

  it('disables controls for viewers', () => {
    expect(disabledState({ value: 1, disabled: false })).toEqual({ value: 1, disabled: true })
    expect(disabledState({ value: 'x' })).toEqual({ value: 'x' })
  })
})
