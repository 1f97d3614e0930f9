import type { Status } from '../bindings/model.did';
import type { ModelEndpoint } from '../env';
import { describeFailure } from '../errors';
import { describeStatus, modelSummary } from '../labels';
import type { ModelMethods } from '../model-client';
import { StatusPoller } from '../status-poller';
import { byTestId, h } from './dom';

export type ModelState = 'checking' | 'ready' | 'not-loaded' | 'unreachable' | 'unconfigured';

const PILL_TEXT: Record<ModelState, string> = {
  checking: 'Checking model…',
  ready: 'Model ready',
  'not-loaded': 'Model not loaded',
  unreachable: 'Canister unreachable · retrying',
  unconfigured: 'Not configured',
};

const NOT_LOADED_MESSAGE =
  'The model is not loaded yet: answers will fail until its weights are uploaded and setup_model has run.';

export interface StatusPanelOptions {
  actor: ModelMethods<'status'> | undefined;
  endpoint: ModelEndpoint | undefined;
  onProblem: (message: string | undefined) => void;
  /** Every status the canister reports (the token counter needs the context length). */
  onStatus?: (status: Status) => void;
}

/** The header pill and the status dialog, both fed by the canister's `status` query, polled while visible. */
export class StatusPanel {
  readonly #pill = byTestId('model-pill');
  readonly #dialog = byTestId<HTMLDialogElement>('status-dialog');
  readonly #groups = byTestId('status-groups');
  readonly #poller: StatusPoller;

  constructor(private readonly options: StatusPanelOptions) {
    const { endpoint } = options;
    byTestId('status-endpoint').textContent = endpoint
      ? `Model canister ${endpoint.canisterId} on the ${endpoint.network === 'local' ? 'local replica' : 'Internet Computer'} (id from ${endpoint.canisterIdSource}).`
      : 'No model canister configured.';
    this.#poller = new StatusPoller({
      check: () => this.#check(),
      isVisible: () => document.visibilityState !== 'hidden',
    });
    document.addEventListener('visibilitychange', () => this.#poller.visibilityChanged());
    const open = () => {
      this.#dialog.showModal();
      void this.refresh();
    };
    this.#pill.addEventListener('click', open);
    byTestId('open-status').addEventListener('click', open);
    byTestId('status-close').addEventListener('click', () => this.#dialog.close());
    byTestId('status-refresh').addEventListener('click', () => void this.refresh());
  }

  /** Starts polling. */
  start(): Promise<void> {
    return this.#poller.start();
  }

  /** Checks now (after a failed call, or when the user asks). */
  refresh(): Promise<void> {
    return this.#poller.checkNow();
  }

  #setState(state: ModelState, problem?: string, summary?: string): void {
    this.#pill.dataset.state = state;
    // Narrow screens keep the model's name and drop its size and precision.
    const [name, ...details] = (summary ?? PILL_TEXT[state]).split(' · ');
    const label = h('span', { text: name });
    if (details.length) label.append(h('span', { class: 'pill-details', text: ` · ${details.join(' · ')}` }));
    this.#pill.replaceChildren(label);
    this.options.onProblem(problem);
  }

  async #check(): Promise<boolean> {
    const { actor } = this.options;
    if (!actor) {
      this.#setState('unconfigured');
      return true;
    }
    try {
      const status = await actor.status();
      this.options.onStatus?.(status);
      if (status.model_loaded) this.#setState('ready', undefined, modelSummary(status));
      else this.#setState('not-loaded', NOT_LOADED_MESSAGE);
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
      return true;
    } catch (error) {
      const { message } = describeFailure(error);
      this.#setState('unreachable', `Cannot read the model canister's status. ${message} Retrying by itself.`);
      this.#groups.replaceChildren(h('p', { class: 'error', text: message }));
      return false;
    }
  }
}
