/** Entry point: the hub serves this page at /s/{id} and /s/{id}/replay; route on the path. */
import { parseRoute } from './model/route'

const root = document.getElementById('app')!
const route = parseRoute(location.pathname, location.hash)

switch (route.kind) {
  case 'notebook':
    void import('./view/app').then(({ mountNotebook }) => mountNotebook(root, route))
    break
  case 'replay':
    void import('./replay/index').then(({ mountReplay }) => mountReplay(root, route))
    break
  case 'unknown':
    root.textContent = 'Open a notebook link of the form /s/<session>#token=…'
    break
}
