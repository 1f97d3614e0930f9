type Theme = 'light' | 'dark';

const STORAGE_KEY = 'gpt2-chat.theme';

function storedTheme(): Theme | undefined {
  const value = localStorage.getItem(STORAGE_KEY);
  return value === 'light' || value === 'dark' ? value : undefined;
}

function effectiveTheme(): Theme {
  return storedTheme() ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

/** Follows the system theme until the user picks one with the toggle. */
export function bindThemeToggle(button: HTMLButtonElement): void {
  const apply = () => {
    const stored = storedTheme();
    if (stored) document.documentElement.dataset.theme = stored;
    const other = effectiveTheme() === 'dark' ? 'light' : 'dark';
    button.textContent = other === 'dark' ? 'Dark theme' : 'Light theme';
    button.setAttribute('aria-label', `Switch to ${other} theme`);
  };
  button.addEventListener('click', () => {
    localStorage.setItem(STORAGE_KEY, effectiveTheme() === 'dark' ? 'light' : 'dark');
    apply();
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', apply);
  apply();
}
