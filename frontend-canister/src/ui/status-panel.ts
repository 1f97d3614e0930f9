import type { ModelEndpoint } from '../env';
import { describeFailure } from '../errors';
import { describeStatus } from '../labels';
import type { ModelMethods } from '../model-client';
import { byTestId, h } from './dom';

export type ModelState = 'checking' | 'ready' | 'not-loaded' | 'unreachable' | 'unconfigured';

const PILL_TEXT: Record<ModelState, string> = {
  checking: 'Checking model…',
  ready: 'Model ready',
  'not-loaded': 'Model not loaded',
  unreachable: 'Canister unreachable',
  unconfigured: 'Not configured',
};

const NOT_LOADED_MESSAGE =
  'The model is not loaded yet: answers will fail until its weights are uploaded and setup_model has run.';

/** The header pill and the status dialog, both fed by the canister's `status` query. */
export class StatusPanel {
  readonly #pill = byTestId('model-pill');
  readonly #dialog = byTestId<HTMLDialogElement>('status-dialog');
  readonly #groups = byTestId('status-groups');

  constructor(
    private readonly actor: ModelMethods<'status'> | undefined,
    endpoint: ModelEndpoint | undefined,
    private readonly onProblem: (message: string | undefined) => void,
  ) {
    byTestId('status-endpoint').textContent = endpoint
      ? `Model canister ${endpoint.canisterId} on the ${endpoint.network === 'local' ? 'local replica' : 'Internet Computer'} (id from ${endpoint.canisterIdSource}).`
      : 'No model canister configured.';
    const open = () => {
      this.#dialog.showModal();
      void this.refresh();
    };
    this.#pill.addEventListener('click', open);
    byTestId('open-status').addEventListener('click', open);
    byTestId('status-close').addEventListener('click', () => this.#dialog.close());
    byTestId('status-refresh').addEventListener('click', () => void this.refresh());
  }

  #setState(state: ModelState, problem?: string): void {
    this.#pill.dataset.state = state;
    this.#pill.textContent = PILL_TEXT[state];
    this.onProblem(problem);
  }

  async refresh(): Promise<void> {
    if (!this.actor) return this.#setState('unconfigured');
    try {
      const status = await this.actor.status();
      this.#setState(
        status.model_loaded ? 'ready' : 'not-loaded',
        status.model_loaded ? undefined : NOT_LOADED_MESSAGE,
      );
      this.#groups.replaceChildren(
        ...describeStatus(status).map((group) =>
          h('section', { class: 'status-group' }, [
            h('h3', { text: group.title }),
            h(
              'dl',
              {},
              group.rows.flatMap((row) => [
                h('dt', { text: row.label }),
                h('dd', {
                  text: row.value,
                  attrs: { 'data-testid': `status-${row.label.toLowerCase().replaceAll(' ', '-')}` },
                }),
              ]),
            ),
          ]),
        ),
      );
    } catch (error) {
      const { message } = describeFailure(error);
      this.#setState('unreachable', `Cannot read the model canister's status. ${message}`);
      this.#groups.replaceChildren(h('p', { class: 'error', text: message }));
    }
  }
}
