import { describe, expect, it } from 'vitest'
import { FRAME_SANDBOX, FRAME_URL, frameHeight, MAX_FRAME_HEIGHT, MIN_FRAME_HEIGHT } from '../src/view/htmlFrame'

describe('HTML output frames', () => {
  it('load the hub frame document with scripts but never the page origin', () => {
    expect(FRAME_URL).toBe('/frame')
    expect(FRAME_SANDBOX.split(' ').sort()).toEqual(['allow-popups', 'allow-scripts'])
    expect(FRAME_SANDBOX).not.toContain('allow-same-origin')
  })

  it('take height reports, clamped, and ignore anything else', () => {
    expect(frameHeight({ collabdFrameHeight: 240 })).toBe(240)
    expect(frameHeight({ collabdFrameHeight: 99999 })).toBe(MAX_FRAME_HEIGHT)
    expect(frameHeight({ collabdFrameHeight: -5 })).toBe(MIN_FRAME_HEIGHT)
    for (const bad of [null, 'x', 240, {}, { collabdFrameHeight: '240' }, { collabdFrameHeight: NaN }, { collabdFrameHeight: Infinity }]) {
      expect(frameHeight(bad)).toBeNull()
    }
  })
})

describe('feeding a frame its HTML', async () => {
  const { FrameFeed } = await import('../src/model/frameFeed')

  it('sends nothing before the frame loads, then only the newest HTML', () => {
    const feed = new FrameFeed('<b>0</b>')
    expect(feed.update('<b>1</b>')).toBeNull()
    expect(feed.update('<b>2</b>')).toBeNull()
    expect(feed.loaded()).toBe('<b>2</b>')
    expect(feed.update('<b>3</b>')).toBe('<b>3</b>')
    expect(feed.update('<b>3</b>')).toBeNull()
  })

  it('a reload (the frame moved) gets the current HTML again', () => {
    const feed = new FrameFeed('<i>x</i>')
    expect(feed.loaded()).toBe('<i>x</i>')
    expect(feed.loaded()).toBe('<i>x</i>')
  })
})
