// Bulk signing: posts the form with fetch and reads the streamed answer
// (application/x-ndjson, one line per letter) so the progress bar moves as each
// letter is signed. Without this script the form posts normally and the server
// answers with a results page.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-bulk-sign]');
  if (!form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
  const boxes = () => Array.from(form.querySelectorAll('input[name="ids"]'));
  const all = form.querySelector('[data-select-all]');
  if (all) {
    all.hidden = false;
    all.addEventListener('change', () => boxes().forEach((b) => { if (!b.disabled) b.checked = all.checked; }));
  }
  const max = Number(form.dataset.max);
  const panel = form.querySelector('[data-progress]');
  const bar = panel.querySelector('progress');
  const text = panel.querySelector('[data-progress-text]');
  const errorBox = panel.querySelector('[data-progress-error]');
  const button = form.querySelector('button[type="submit"]');
  const okTemplate = form.querySelector('template[data-ok-template]');
  const failedTemplate = form.querySelector('template[data-failed-template]');

  let done = 0;
  let total = 0;
  const showProgress = () => {
    bar.max = Math.max(total, 1);
    bar.value = done;
    text.textContent = text.dataset.template.replace('{done}', String(done)).replace('{total}', String(total));
  };

  const showResult = (r) => {
    const row = form.querySelector(`tr[data-letter="${CSS.escape(String(r.id))}"]`);
    const box = row && row.querySelector('[data-result]');
    if (box) {
      box.replaceChildren(document.importNode((r.ok ? okTemplate : failedTemplate).content, true));
      if (r.ok) {
        const badge = box.querySelector('.badge');
        badge.textContent = badge.textContent.replace('{number}', r.number);
        const check = row.querySelector('input[name="ids"]');
        check.checked = false;
        check.disabled = true;
      } else {
        box.append(document.createTextNode(r.error && r.error.message ? r.error.message : ''));
      }
      box.hidden = false;
    }
    done += 1;
    showProgress();
  };

  form.addEventListener('submit', async (e) => {
    if (e.defaultPrevented) return; // the confirmation was declined
    const chosen = boxes().filter((b) => b.checked);
    if (chosen.length === 0 || chosen.length > max) return; // a normal post: the server explains
    e.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    done = 0;
    total = chosen.length;
    button.disabled = true;
    errorBox.hidden = true;
    panel.hidden = false;
    showProgress();
    try {
      const res = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/x-ndjson' } });
      if (!res.ok) {
        const answer = await res.json().catch(() => null);
        throw new Error((answer && answer.error && answer.error.message) || res.statusText);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done: end } = await reader.read();
        if (value) buffer += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) showResult(JSON.parse(line));
        }
        if (end) break;
      }
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    } finally {
      button.disabled = false;
      form.querySelector('input[name="passphrase"]').value = '';
    }
  });
});
