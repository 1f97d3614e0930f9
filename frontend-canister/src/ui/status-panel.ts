import type { Status } from '../bindings/model.did';
import { describeFailure } from '../errors';
import type { FleetMember } from '../fleet';
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

/** The canister whose status the panel shows, and its actor. */
export interface StatusTarget {
  member: FleetMember;
  actor: ModelMethods<'status'>;
}

export interface StatusPanelOptions {
  /** The canister to ask now (it follows the conversation on screen); absent when the page found none. */
  target: (() => StatusTarget) | undefined;
  /** Canisters in the fleet: with more than one, the dialog says which of them it shows. */
  fleetSize: number;
  /** The target did not answer. */
  onUnreachable?: (member: FleetMember) => void;
  onProblem: (message: string | undefined) => void;
  /** Every status the canister reports (the token counter needs the context length). */
  onStatus?: (status: Status) => void;
}

/**
 * The header pill and the status dialog, both fed by the `status` query of the canister of the conversation on
 * screen, polled while visible.
 */
export class StatusPanel {
  readonly #pill = byTestId('model-pill');
  readonly #dialog = byTestId<HTMLDialogElement>('status-dialog');
  readonly #groups = byTestId('status-groups');
  readonly #endpoint = byTestId('status-endpoint');
  readonly #poller: StatusPoller;
  /** The canister shown (or being asked). */
  #shown: FleetMember | undefined;

  constructor(private readonly options: StatusPanelOptions) {
    this.#show(options.target?.().member);
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

  /** Checks now if the canister to ask is no longer the one shown (another conversation, or it moved). */
  follow(): void {
    if (this.options.target && this.options.target().member !== this.#shown) void this.refresh();
  }

  #show(member: FleetMember | undefined): void {
    this.#shown = member;
    if (!member) {
      this.#endpoint.textContent = 'No model canister configured.';
      return;
    }
    const { endpoint, name } = member;
    const fleet = this.options.fleetSize > 1;
    const network = endpoint.network === 'local' ? 'local replica' : 'Internet Computer';
    this.#endpoint.textContent =
      `Model canister ${endpoint.canisterId}${fleet ? ` (${name}, one of ${this.options.fleetSize})` : ''} on the ` +
      `${network} (${fleet ? 'ids' : 'id'} from ${endpoint.canisterIdSource}).`;
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
    if (!this.options.target) {
      this.#setState('unconfigured');
      return true;
    }
    const { member, actor } = this.options.target();
    this.#show(member);
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
      this.options.onUnreachable?.(member);
      const { message } = describeFailure(error);
      this.#setState('unreachable', `Cannot read the model canister's status. ${message} Retrying by itself.`);
      this.#groups.replaceChildren(h('p', { class: 'error', text: message }));
      return false;
    }
  }
}
