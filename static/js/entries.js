// Assessment forms (form[data-keep-entries]): Enter in a field does not save, only the
// button does; and what was typed survives a session that ended, in this tab's
// sessionStorage only (never a URL, never the server), until it is saved or the user
// logs out. Passwords and the CSRF token are never stored.
(function () {
  "use strict";
  const KEY = "unsaved-entries";
  const BUTTONS = new Set(["submit", "button", "reset"]);
  const NOT_KEPT = new Set(["password", "file", ...BUTTONS]);

  function stored() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY));
    } catch (error) {
      return null;
    }
  }

  // Saved (a success message) or logged out: nothing is kept.
  if (document.querySelector("[data-saved]")) sessionStorage.removeItem(KEY);
  const logout = document.querySelector("form[data-logout]");
  if (logout) logout.addEventListener("submit", () => sessionStorage.removeItem(KEY));

  // The login page: entries kept for a form are restored once the user is back on it.
  const kept = stored();
  if (kept && document.querySelector("form[data-login]")) {
    kept.relogin = true;
    sessionStorage.setItem(KEY, JSON.stringify(kept));
  }

  const form = document.querySelector("form[data-keep-entries]");
  if (!form) return;

  function fields() {
    return Array.from(form.elements).filter(
      (field) => field.name && field.name !== "csrfmiddlewaretoken" && !NOT_KEPT.has(field.type),
    );
  }

  function keep() {
    const entries = fields()
      .filter((field) => !["radio", "checkbox"].includes(field.type) || field.checked)
      .map((field) => [field.name, field.value]);
    sessionStorage.setItem(KEY, JSON.stringify({ path: location.pathname, entries: entries }));
  }

  if (kept && kept.relogin && kept.path === location.pathname) {
    const values = new Map(kept.entries);
    fields().forEach((field) => {
      if (["radio", "checkbox"].includes(field.type)) field.checked = values.get(field.name) === field.value;
      else if (values.has(field.name)) field.value = values.get(field.name);
    });
    form.before(document.getElementById("entries-restored").content.cloneNode(true));
    keep();
  }

  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
  form.addEventListener("submit", keep);
  form.addEventListener("keydown", (event) => {
    const field = event.target;
    if (event.key === "Enter" && field.tagName === "INPUT" && !BUTTONS.has(field.type)) {
      event.preventDefault();
    }
  });
})();
