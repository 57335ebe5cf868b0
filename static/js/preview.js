// Live preview: the server computes, with the same form and rules as the save.
(function () {
  "use strict";
  const form = document.querySelector("form[data-preview-url]");
  const region = document.getElementById("preview");
  if (!form || !region) return;

  const names = {
    recommended: "Adjuvant TACE recommended",
    not_recommended: "Adjuvant TACE not recommended",
  };

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  const riskLevels = { high: "High", low: "Low" };

  function show(data) {
    region.replaceChildren();
    if (data.errors) {
      region.dataset.state = "incomplete";
      region.dataset.recommendation = "";
      const count = Object.keys(data.errors).length;
      region.append(element("p", `${count} field${count === 1 ? "" : "s"} still missing or invalid.`, "mb-0 text-body-secondary"));
      return;
    }
    const result = data.result;
    region.dataset.state = "result";
    region.dataset.recommendation = result.recommendation;
    region.append(element("p", names[result.recommendation], "fw-bold fs-5 mb-1"));
    region.append(element("p", `Risk of recurrence: ${riskLevels[result.risk_level]}`, "mb-1"));
    const lf = result.liver_function;
    if (lf) {
      region.append(element("p", `Child-Pugh ${lf.child_pugh_score} (class ${lf.child_pugh_class}); ALBI ${lf.albi_score} (grade ${lf.albi_grade})`, "mb-1"));
    }
    // The same sentences as the saved result: one per factor, contraindication and caution, then the outcome.
    const why = element("ol", undefined, "mb-0 small");
    result.rationale.forEach((sentence) => why.append(element("li", sentence)));
    region.append(why);
  }

  let timer = null;
  let latest = 0;
  function update() {
    const body = new FormData(form);
    body.set("ruleset", form.dataset.ruleset);
    const ticket = ++latest;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: body,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => { if (ticket === latest) show(data); })
      .catch(() => {
        if (ticket !== latest) return;
        region.dataset.state = "unavailable";
        region.replaceChildren(element("p", "The preview is unavailable; the form still works.", "mb-0 text-body-secondary"));
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  update();
})();
