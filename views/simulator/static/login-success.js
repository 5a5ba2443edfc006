/* global window, setTimeout */
// LoginSuccessCallback: the popup closes itself; the opener notices and reloads the grid.
setTimeout(function () {
  window.close();
}, 1000);
