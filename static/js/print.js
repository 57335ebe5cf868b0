// The printout's Print button: a file script, since the policy forbids inline ones.
(function () {
  "use strict";
  const button = document.querySelector("[data-print]");
  if (button) button.addEventListener("click", () => window.print());
})();
