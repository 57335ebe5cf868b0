// Live preview: the server validates with the page's own form and renders the answer
// with the detail page's templates; this only posts the form and swaps the HTML in.
(function () {
  "use strict";
  const form = document.querySelector("form[data-preview-url]");
  const region = document.getElementById("preview");
  if (!form || !region) return;

  // A slot after each lab value's input, for the value in the other unit.
  function slotFor(id) {
    let slot = document.getElementById(`${id}_other_unit`);
    const input = document.getElementById(id);
    if (!slot && input) {
      slot = document.createElement("p");
      slot.id = `${id}_other_unit`;
      slot.className = "form-text mb-0 other-unit";
      input.after(slot);
    }
    return slot;
  }

  function show(content, state, recommendation) {
    region.dataset.state = state;
    region.dataset.recommendation = recommendation || "";
    region.replaceChildren(content);
  }

  function swap(html) {
    const answer = document.createElement("template");
    answer.innerHTML = html;
    form.querySelectorAll(".other-unit").forEach((slot) => { slot.textContent = ""; });
    answer.content.querySelectorAll("[data-beside]").forEach((node) => {
      const slot = slotFor(node.dataset.beside);
      if (slot) slot.textContent = node.textContent;
      node.remove();
    });
    const root = answer.content.firstElementChild;
    show(answer.content, root.dataset.state, root.dataset.recommendation);
  }

  // A message the page holds in a <template>.
  function say(id, state) {
    show(document.getElementById(id).content.cloneNode(true), state);
  }

  // Redirected to the login page (not followed: that would use up its message), or refused.
  function sessionEnded(response) {
    return response.type === "opaqueredirect" || response.status === 401 || response.status === 403;
  }

  let timer = null;
  let latest = 0;
  function update() {
    const ticket = ++latest;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
      redirect: "manual",
    })
      .then((response) => {
        if (sessionEnded(response)) return null;
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then((html) => {
        if (ticket !== latest) return;
        if (html === null) say("preview-session-ended", "session-ended");
        else swap(html);
      })
      .catch(() => { if (ticket === latest) say("preview-unavailable", "unavailable"); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  update();
})();
