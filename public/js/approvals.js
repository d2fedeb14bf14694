// Approval chain template form: appends the position picked from the datalist
// as a new line of the ordered list. Without JavaScript the codes are typed.
document.addEventListener('DOMContentLoaded', () => {
  for (const picker of document.querySelectorAll('[data-position-picker]')) {
    const form = picker.closest('form');
    const source = picker.querySelector('[data-picker-source]');
    const add = picker.querySelector('[data-picker-add]');
    const target = form && form.querySelector('textarea[name="positions"]');
    if (!source || !add || !target) continue;
    add.hidden = false;
    add.addEventListener('click', () => {
      const code = source.value.trim();
      if (!code) return;
      const lines = target.value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
      if (!lines.includes(code)) lines.push(code);
      target.value = lines.join('\n');
      source.value = '';
      source.focus();
    });
  }
});
