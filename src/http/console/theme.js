/* Sets the theme before the page paints: the saved choice, else the system's. */
(function () {
  var saved = null;
  try { saved = localStorage.getItem('runnel-theme'); } catch (e) { /* storage off */ }
  var dark = saved ? saved === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
})();
