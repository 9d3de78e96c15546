// Starts the wasm app without an inline script, so the page runs under a strict CSP
// (`script-src 'self' 'wasm-unsafe-eval'`). Trunk replaces the `rel="rust"` link in
// index.html with <meta name="microblog-wasm" data-js=... data-wasm=...> carrying the
// hashed file names (see `pattern_script` in Trunk.toml); this module reads them, imports
// the wasm-bindgen glue and initialises it.
const meta = document.querySelector('meta[name="microblog-wasm"]');
if (meta) {
  const glue = await import(meta.dataset.js);
  await glue.default({ module_or_path: meta.dataset.wasm });
} else {
  console.error('microblog: the <meta name="microblog-wasm"> element is missing; was this page built by Trunk?');
}
