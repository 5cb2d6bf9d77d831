/** The table of contents: the headings of the markdown cells, in order (no DOM). */

export interface Heading {
  cellId: string
  level: number
  text: string
}

export interface CellLike {
  id: string
  type: string
  source: string
}

/** ATX headings (`# …` to `###### …`) outside fenced code, with inline markup taken off. */
export function headings(cells: readonly CellLike[]): Heading[] {
  const found: Heading[] = []
  for (const cell of cells) {
    if (cell.type !== 'markdown') continue
    let fence: string | null = null
    for (const line of cell.source.split('\n')) {
      const opens = /^\s{0,3}(```|~~~)/.exec(line)
      if (opens) {
        if (fence === null) fence = opens[1]
        else if (opens[1] === fence) fence = null
        continue
      }
      if (fence !== null) continue
      const m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line)
      if (!m) continue
      const text = m[2].replace(/[*_`]/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').trim()
      if (text) found.push({ cellId: cell.id, level: m[1].length, text })
    }
  }
  return found
}
