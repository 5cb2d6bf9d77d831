/** Entry point: the hub serves this page at /, /s/{id} and /s/{id}/replay; route on the path. */
import { SessionApi } from './model/api'
import { stripBase } from './model/base'
import { parseRoute, takeToken } from './model/route'
import { appOrigin, pageBase } from './view/base'

const root = document.getElementById('app')!
const route = takeToken(parseRoute(stripBase(location.pathname, pageBase()), location.hash), sessionStorage, () =>
  history.replaceState(history.state, '', location.pathname + location.search),
)

switch (route.kind) {
  case 'notebook': {
    // Ask who we are while the (large) notebook code loads, rather than after.
    const info = route.token ? new SessionApi(appOrigin(), route.sessionId, route.token).info() : null
    info?.catch(() => undefined) // the page reports it once loaded
    void import('./view/app').then(({ mountNotebook }) => mountNotebook(root, route, info))
    break
  }
  case 'replay':
    void import('./replay/index').then(({ mountReplay }) => mountReplay(root, route))
    break
  case 'home':
    void import('./home/index').then(({ mountHome }) => mountHome(root))
    break
  case 'unknown':
    root.textContent = 'Open a notebook link of the form /s/<session>#token=…'
    break
}
