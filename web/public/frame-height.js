// Runs inside each sandboxed HTML output frame (opaque origin): tells the page how tall the
// content is, so the frame can fit it. A file rather than inline script, so that the page's
// Content-Security-Policy (script-src 'self'), which the frame inherits, allows it.
(function () {
  function send() {
    parent.postMessage({ collabdFrameHeight: document.documentElement.scrollHeight }, '*')
  }
  addEventListener('load', send)
  if (window.ResizeObserver) new ResizeObserver(send).observe(document.documentElement)
})()
