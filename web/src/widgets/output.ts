/**
 * The Output widget (`@jupyter-widgets/output`): the hub captures what the kernel prints and
 * displays under it into the model's `outputs` state, and the view draws them with the page's
 * own output renderer, as in a cell: text escaped, markdown sanitised, HTML in the sandboxed
 * frame, images as data URLs, nested widgets as widgets.
 */
import * as outputBase from '@jupyter-widgets/output'
import type * as Backbone from 'backbone'
import { disposeOutputs, type OutputsState, renderOutputs } from '../view/outputs'

export const OUTPUT_WIDGET_VERSION = outputBase.OUTPUT_WIDGET_VERSION

export class OutputModel extends outputBase.OutputModel {
  override defaults(): Backbone.ObjectHash {
    return { ...super.defaults(), outputs: [] }
  }
}

export class OutputView extends outputBase.OutputView {
  private readonly area = document.createElement('div')
  private readonly drawn: OutputsState = { expanded: null }

  override render(): void {
    super.render()
    this.el.classList.add('jupyter-widgets-output-area', 'widget-output')
    this.area.className = 'cell-outputs widget-output-area'
    this.el.append(this.area)
    this.listenTo(this.model, 'change:outputs', () => this.draw())
    this.draw()
  }

  private draw(): void {
    const outputs = this.model.get('outputs') as unknown
    renderOutputs(this.area, Array.isArray(outputs) ? outputs : [], this.drawn)
  }

  override remove(): this {
    disposeOutputs(this.area)
    return super.remove()
  }
}
