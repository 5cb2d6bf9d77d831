/**
 * What an HTML output frame should be sent, as state without DOM. A display updated through its
 * handle changes the HTML many times a second; the frame is kept (never recreated, so it never
 * shows blank while a new one loads) and gets only the latest HTML: nothing before its document
 * has loaded, then the newest, once each.
 */
export class FrameFeed {
  private latest: string
  private sent: string | null = null
  private ready = false

  constructor(html: string) {
    this.latest = html
  }

  get html(): string {
    return this.latest
  }

  /** New HTML for this output: what to post now, if anything. */
  update(html: string): string | null {
    this.latest = html
    return this.flush()
  }

  /** The frame's document (re)loaded (first load, or moved in the page): it has nothing yet. */
  loaded(): string | null {
    this.ready = true
    this.sent = null
    return this.flush()
  }

  /** The frame is loading a fresh document (it was moved): hold until it has. */
  unloaded(): void {
    this.ready = false
  }

  private flush(): string | null {
    if (!this.ready || this.sent === this.latest) return null
    this.sent = this.latest
    return this.latest
  }
}
