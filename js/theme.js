// Applies the theme chosen with the header's switch before the first paint: a classic
// script in <head> (an external file, for the CSP) that runs before the body is drawn.
// js/boot.js writes the choice to localStorage as JSON ("light" or "dark"; nothing for the
// system's), and sets the same attribute when it changes.
try {
  const theme = JSON.parse(localStorage.getItem('microblog-theme'));
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch {
  // Storage refused (a private mode) or not ours: the system's colours.
}
