import { DEFAULT_SETTINGS, type GenerationSettings, normalizeSettings } from '../settings';
import { byTestId } from './dom';

/** The settings form edits a copy; only "Save" hands normalized settings back. */
export function bindSettingsDialog(
  openButton: HTMLElement,
  getSettings: () => GenerationSettings,
  onSave: (settings: GenerationSettings) => void,
): void {
  const dialog = byTestId<HTMLDialogElement>('settings-dialog');
  const form = byTestId<HTMLFormElement>('settings-form');
  const field = (name: keyof GenerationSettings) => form.elements.namedItem(name) as HTMLInputElement;

  const syncDerived = () => {
    for (const output of form.querySelectorAll('output')) {
      output.value = (form.elements.namedItem(output.htmlFor.value) as HTMLInputElement | null)?.value ?? '';
    }
    field('seed').disabled = field('randomSeed').checked;
  };

  const fill = (settings: GenerationSettings) => {
    field('maxTokens').value = String(settings.maxTokens);
    field('temperature').value = String(settings.temperature);
    field('topK').value = String(settings.topK);
    field('topP').value = String(settings.topP);
    field('seed').value = String(settings.seed);
    field('randomSeed').checked = settings.randomSeed;
    field('callBudget').value = settings.callBudget === null ? '' : String(settings.callBudget);
    syncDerived();
  };

  const read = (): GenerationSettings =>
    normalizeSettings({
      maxTokens: field('maxTokens').value,
      temperature: field('temperature').value,
      topK: field('topK').value,
      topP: field('topP').value,
      seed: field('seed').value,
      randomSeed: field('randomSeed').checked,
      callBudget: field('callBudget').value,
    });

  form.addEventListener('input', syncDerived);
  byTestId('settings-reset').addEventListener('click', () => fill({ ...DEFAULT_SETTINGS }));
  // A plain button, not a submit button: Enter in a field submits with the form's first submit button, Save.
  byTestId('settings-close').addEventListener('click', () => dialog.close());
  openButton.addEventListener('click', () => {
    fill(getSettings());
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save') onSave(read());
    dialog.returnValue = '';
  });
}
