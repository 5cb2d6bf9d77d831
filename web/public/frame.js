// Runs inside each HTML output frame (the hub's /frame, sandboxed: an opaque origin). Takes the
// output's HTML from the page and writes it into this document so that its scripts run, in
// order, as in Jupyter; then keeps telling the page how tall the content is, so the frame can fit
// it. A display updated through its handle sends new HTML into the same frame: it is written
// over the old in one go (no blank frame in between).
(function () {
  var PRELUDE =
    '<!doctype html><meta charset="utf-8"><style>html,body{margin:0;font:14px/1.4 system-ui,sans-serif}' +
    'table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px}</style>'
  var current = null

  function reportHeight() {
    function send() {
      parent.postMessage({ collabdFrameHeight: document.documentElement.scrollHeight }, '*')
    }
    addEventListener('load', send)
    if (window.ResizeObserver) new ResizeObserver(send).observe(document.documentElement)
    send()
  }

  function receive(event) {
    var data = event.data
    if (event.source !== parent || !data || typeof data.collabdHtml !== 'string') return
    if (data.collabdHtml === current) return
    current = data.collabdHtml
    // open() clears this window's listeners; write() runs the HTML's scripts as it parses them
    // (external ones block parsing until loaded, so later inline scripts can use them).
    document.open()
    document.write(PRELUDE + current)
    document.close()
    // Listen again for the next update of this display.
    addEventListener('message', receive)
    reportHeight()
  }
  addEventListener('message', receive)
})()
