/**
 * Offsets in a text as JavaScript counts them (UTF-16 code units) and as the kernel and the hub
 * count them (code points, Python's `len`). They differ after any character outside the BMP
 * (most emoji, some CJK and math letters), which takes two code units and one code point.
 */

/** The code point offset of the UTF-16 offset `index` in `text`. */
export function toCodePoints(text: string, index: number): number {
  let points = 0
  for (let i = 0; i < index && i < text.length; i++) {
    const unit = text.charCodeAt(i)
    // A high surrogate followed by a low one is one code point: count it at its second half.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (i + 1 >= index) break // an offset inside a pair counts the pair as not yet passed
        i++
      }
    }
    points++
  }
  return points
}

/** The UTF-16 offset of the code point offset `points` in `text` (clamped to the text). */
export function fromCodePoints(text: string, points: number): number {
  let index = 0
  for (let p = 0; p < points && index < text.length; p++) {
    const point = text.codePointAt(index)!
    index += point > 0xffff ? 2 : 1
  }
  return index
}
