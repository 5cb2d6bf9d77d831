/** Saves a blob the page fetched (with the token in a header) as a file, as a link click would. */
import { h } from './dom'

export async function saveBlob(
  blob: Blob | Promise<Blob>,
  fileName: string,
  notify: (message: string) => void,
): Promise<void> {
  try {
    const url = URL.createObjectURL(await blob)
    const a = h('a', { href: url, download: fileName })
    document.body.append(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  } catch (e) {
    notify(`Download failed: ${String(e)}`)
  }
}
