/** The view of a widget from a library this page does not load (ipyleaflet, bqplot…): says so, as text. */
import { DOMWidgetView } from '@jupyter-widgets/base'

export class UnavailableView extends DOMWidgetView {
  override render(): void {
    const module = String(this.model.get('_view_module') ?? this.model.get('_model_module') ?? 'another library')
    const name = String(this.model.get('_view_name') ?? 'a widget')
    this.el.classList.add('widget-unavailable')
    this.el.textContent = `[${name} from ${module}: this widget library is not available on this page]`
  }
}
