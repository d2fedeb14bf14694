// The drafting form's enhancements; the form works without them.
// - Body: a contenteditable area with a small toolbar, mirrored into the
//   <textarea name="body"> that is what gets submitted (the server sanitises it).
// - Recipients: a picker that appends "unit:CODE" / "position:CODE" / "user:name" lines.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-letter-form]');
  if (!form) return;

  const textarea = form.querySelector('textarea[name="body"]');
  const editorBox = form.querySelector('[data-editor]');
  if (textarea && editorBox && document.execCommand) {
    const area = editorBox.querySelector('[contenteditable]');
    // Only these tags are copied into the editor; everything else keeps just its text.
    const KEEP = new Set(['P', 'BR', 'STRONG', 'EM', 'U', 'B', 'I', 'OL', 'UL', 'LI', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'DIV']);
    const DROP = new Set(['SCRIPT', 'STYLE', 'TEXTAREA', 'OPTION', 'NOSCRIPT', 'TITLE', 'HEAD', 'TEMPLATE', 'IFRAME', 'OBJECT']);
    const copy = (from, to) => {
      for (const n of from.childNodes) {
        if (n.nodeType === Node.TEXT_NODE) to.appendChild(document.createTextNode(n.textContent));
        else if (n.nodeType === Node.ELEMENT_NODE && !DROP.has(n.tagName)) {
          if (KEEP.has(n.tagName)) to.appendChild(copy(n, document.createElement(n.tagName.toLowerCase())));
          else copy(n, to);
        }
      }
      return to;
    };
    const load = (value) => {
      if (!/<[a-z][\s\S]*>/i.test(value)) {
        // Plain text, as the server reads it: blank lines separate paragraphs.
        for (const para of value.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
          if (!para.trim()) continue;
          const p = document.createElement('p');
          para.trim().split('\n').forEach((line, i) => {
            if (i) p.appendChild(document.createElement('br'));
            p.appendChild(document.createTextNode(line));
          });
          area.appendChild(p);
        }
      } else {
        // An inert document: nothing in it runs or loads.
        copy(new DOMParser().parseFromString(value, 'text/html').body, area);
      }
      if (!area.firstChild) area.appendChild(document.createElement('p')).appendChild(document.createElement('br'));
    };
    load(textarea.value);
    const mirror = () => { textarea.value = area.innerHTML; };
    editorBox.hidden = false;
    textarea.hidden = true;
    const hint = document.getElementById('body-hint');
    if (hint) hint.hidden = true;
    document.execCommand('defaultParagraphSeparator', false, 'p');
    area.addEventListener('input', mirror);
    form.addEventListener('submit', mirror);
    for (const b of editorBox.querySelectorAll('[data-cmd]')) {
      b.addEventListener('mousedown', (e) => e.preventDefault()); // keep the selection in the text
      b.addEventListener('click', () => {
        area.focus();
        document.execCommand(b.getAttribute('data-cmd'), false);
        mirror();
      });
    }
    const label = form.querySelector('label[for="body"]');
    if (label) label.addEventListener('click', () => area.focus());
  }

  const picker = form.querySelector('[data-recipient-picker]');
  if (picker) {
    const source = picker.querySelector('[data-picker-source]');
    picker.hidden = false;
    for (const b of picker.querySelectorAll('[data-picker-add]')) {
      b.addEventListener('click', () => {
        const target = form.querySelector(`textarea[name="${b.getAttribute('data-picker-add')}"]`);
        const line = source.value;
        if (!target || !line) return;
        const lines = target.value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        if (!lines.includes(line)) lines.push(line);
        target.value = lines.join('\n');
      });
    }
  }
});
