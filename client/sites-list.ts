// Sites page: copy a coordinator link to the clipboard, and confirm before rotating a link.
function copyText(input: HTMLInputElement): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(input.value);
  // Plain-HTTP intranets have no async clipboard: select the text and use the legacy command.
  input.select();
  document.execCommand('copy');
  return Promise.resolve();
}

for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const input = document.querySelector<HTMLInputElement>(button.dataset.copy ?? '');
    if (!input) return;
    const label = button.textContent;
    try {
      await copyText(input);
      button.textContent = button.dataset.copiedLabel ?? label;
      setTimeout(() => (button.textContent = label), 2000);
    } catch {
      input.select();
    }
  });
}

for (const form of document.querySelectorAll<HTMLFormElement>('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm ?? '')) event.preventDefault();
  });
}

for (const input of document.querySelectorAll<HTMLInputElement>('input.link-input')) {
  input.addEventListener('focus', () => input.select());
}
