// The page before the app: while the wasm downloads, this module shows a static copy of
// what the app will render first, from the <template> elements of index.html (same markup,
// same CSS), so a visitor can read and type at once. The entry forms cannot be sent from
// here: their submit button is disabled and says it is loading, and any submit event is
// cancelled, so no password can go into a URL or to the static host. When the app has
// rendered its own page it takes the shell's place in one step, before the next frame:
// the typed values, the focused field and its caret move over, and the shell goes.
//
// Every element of the shell carries `data-boot`; while it shows, <body class="booting">
// hides the app's own elements (style/main.css).

const SHELL = 'data-boot';

/** The entry forms a first visit may land on, by path. */
const FORMS = { '/login': ['login', 'Log in'], '/register': ['register', 'Register'], '/forgot': ['forgot', 'Forgot password'] };

/**
 * Whether this browser may hold a session: the server sets the script-readable
 * `session_hint` cookie beside its HttpOnly refresh cookie (src/api/hint.rs reads the same).
 * An API on another origin keeps its cookies to itself, so a session is assumed there.
 */
function mayHaveSession() {
  const meta = document.querySelector('meta[name="microblog-api-base"]');
  const base = (meta?.getAttribute('content') ?? '').trim().replace(/\/+$/, '');
  if (base !== '' && base !== location.origin) return true;
  return document.cookie.split(';').some((pair) => /^\s*session_hint=./.test(pair));
}

/** A copy of `<template id=...>`'s content without the indentation between elements. */
function fromTemplate(id) {
  const template = document.getElementById(id);
  if (!(template instanceof HTMLTemplateElement)) return null;
  const fragment = template.content.cloneNode(true);
  const walker = document.createTreeWalker(fragment, NodeFilter.SHOW_TEXT);
  const blank = [];
  while (walker.nextNode()) {
    if (walker.currentNode.nodeValue.trim() === '') blank.push(walker.currentNode);
  }
  for (const node of blank) node.remove();
  return fragment;
}

/**
 * The header's theme switch, in the copy and in the app alike: the app renders the same
 * <select> and leaves the choice to this one listener, so none of this is in its wasm.
 * Stored as JSON in localStorage (nothing for the system's), where js/theme.js reads it
 * before the first paint, and applied at once.
 */
document.addEventListener('change', (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.closest('.theme-switch')) return;
  const theme = select.value;
  const chosen = theme === 'light' || theme === 'dark';
  try {
    if (chosen) localStorage.setItem('microblog-theme', JSON.stringify(theme));
    else localStorage.removeItem('microblog-theme');
  } catch {
    // Storage refused: the choice holds for this page only.
  }
  if (chosen) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
});

function showShell() {
  const layout = fromTemplate('boot-layout');
  if (!layout) return false;
  const select = layout.querySelector('.theme-switch select');
  if (select) select.value = document.documentElement.dataset.theme ?? 'system';
  const returning = mayHaveSession();
  const form = returning ? undefined : FORMS[location.pathname];
  // Logged-out visitors see the account links; a session being restored shows none.
  if (!returning) {
    const links = fromTemplate('boot-account');
    const list = layout.querySelector('nav ul');
    if (links && list) {
      for (const link of links.querySelectorAll('a')) {
        if (link.getAttribute('href') === location.pathname) link.setAttribute('aria-current', 'page');
      }
      list.append(links);
    }
  }
  // The reset page renders at once, whoever is logged in: nothing to stand in for it.
  const page = form ? fromTemplate(`boot-${form[0]}`) : returning && location.pathname !== '/reset' ? fromTemplate('boot-feed') : null;
  const main = layout.querySelector('main');
  if (page && main) main.append(page);
  if (form) document.title = `${form[1]} · Microblog`;
  for (const element of layout.children) element.setAttribute(SHELL, '');
  document.body.classList.add('booting');
  document.body.prepend(layout);
  return true;
}

/** Moves what the visitor did in the shell to the app's page in `main`, then drops the shell. */
function handOver(main) {
  const fields = [...document.querySelectorAll(`[${SHELL}] input[name], [${SHELL}] textarea[name]`)];
  const typed = fields.map((field) => [field.name, field.value]);
  const active = document.activeElement;
  const focused = fields.includes(active) ? active : null;
  let caret = null;
  try {
    caret = focused && focused.selectionStart !== null ? [focused.selectionStart, focused.selectionEnd, focused.selectionDirection] : null;
  } catch {
    caret = null; // an email field has no caret to read
  }
  for (const element of document.querySelectorAll(`body > [${SHELL}]`)) element.remove();
  document.body.classList.remove('booting');
  // A theme chosen in the copy, after the app read the stored one.
  const theme = document.querySelector('body > header .theme-switch select');
  if (theme) theme.value = document.documentElement.dataset.theme ?? 'system';
  const twin = (name) => main.querySelector(`[name="${CSS.escape(name)}"]`);
  for (const [name, value] of typed) {
    const field = twin(name);
    if (field && value !== '' && field.value !== value) {
      field.value = value;
      // The app's fields follow their `input` events (Leptos `bind:value`).
      field.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }
  const target = focused && twin(focused.name);
  if (target) {
    target.focus({ preventScroll: true });
    const restore = () => {
      try {
        if (caret) target.setSelectionRange(caret[0], caret[1], caret[2] ?? 'none');
      } catch {
        // a field type without a caret: focus is what there is to keep
      }
    };
    restore();
    // The app's first effects run after this and write the field's value again, which
    // puts the caret at the end: put it back before the next frame, unless a key was
    // pressed meanwhile.
    const value = target.value;
    requestAnimationFrame(() => {
      if (target.value === value && document.activeElement === target) restore();
    });
  }
}

if (showShell()) {
  // Nothing in the shell is ever sent: the app sends its own forms.
  document.addEventListener(
    'submit',
    (event) => {
      if (event.target instanceof Element && event.target.closest(`[${SHELL}]`)) event.preventDefault();
    },
    true,
  );
  // The app mounts its layout beside the shell, hidden; the moment its <main> holds a
  // page, known by its heading (at once for an entry form, after the session is restored
  // for a private page; not a loading placeholder), it takes over. Observer callbacks run
  // before the browser paints again.
  const ready = () => {
    const main = document.querySelector(`body > main:not([${SHELL}])`);
    if (!main || !main.querySelector('h1')) return false;
    handOver(main);
    return true;
  };
  const observer = new MutationObserver(() => {
    if (ready()) observer.disconnect();
  });
  observer.observe(document.body, { childList: true, subtree: true });
}
