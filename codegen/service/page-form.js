"use strict";
// The page's form: a stub, its test files, the models; the request count before submitting
// (loaded after page.js, whose helpers it uses). Everything typed is sent as data and shown as
// text, never as HTML.

// -- the form -----------------------------------------------------------------------------------
function addTestFile(name = "", source = "") {
  const box = el("div", { class: "test-file" });
  const nameInput = el("input", { type: "text", value: name, placeholder: "test_name.py", spellcheck: false });
  nameInput.className = "test-name";
  const remove = el("button", { type: "button", class: "quiet" }, "remove");
  remove.onclick = () => { box.remove(); };
  const text = el("textarea", { rows: 6, spellcheck: false, value: source,
    placeholder: "from solution import NAME\n\ndef test_it():\n    assert NAME(...) == ..." });
  text.className = "test-source";
  box.append(el("label", {}, "Test file"), el("div", { class: "name" }, nameInput, remove), text);
  $("tests").append(box);
  if (!name) nameInput.value = "test_" + (functionName() || "problem") + ".py";
  nameInput.focus();
}

function functionName() {
  const match = /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/m.exec($("stub").value);
  return match ? match[1] : null;
}

function chosenModels() {
  const boxes = [...$("models").querySelectorAll("input[type=checkbox]")];
  const checked = boxes.filter((b) => b.checked).map((b) => b.value);
  const others = $("other-models").value.split(",").map((s) => s.trim()).filter(Boolean);
  const all = [...checked, ...others];
  const isDefault = !others.length && checked.length === boxes.length && boxes.length > 0;
  return { models: isDefault ? null : all, empty: all.length === 0 };
}

function flags() {
  const { models } = chosenModels();
  const samples = $("samples").value ? Number($("samples").value) : null;
  const picked = document.querySelector("input[name=jury]:checked");
  const jury = !picked || picked.value === "" ? null : picked.value === "on";
  return { models, samples, jury };
}

function schedulePlan() {
  clearTimeout(state.planTimer);
  state.planTimer = setTimeout(() => updatePlan().catch(() => {}), 250);
}

async function updatePlan() {
  const plan = $("plan");
  plan.replaceChildren();
  plan.classList.remove("error-line");
  if (chosenModels().empty) {
    plan.classList.add("error-line");
    plan.append("Choose at least one model.");
    $("solve").disabled = true;
    return;
  }
  try {
    const { body } = await apiJson("/v1/plan", { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(flags()) });
    const r = body.requests;
    plan.append("This sends ", el("b", {}, String(r.per_run)), ` model request${r.per_run === 1 ? "" : "s"}: `,
      `${r.models} model${r.models === 1 ? "" : "s"} × ${r.personas} persona${r.personas === 1 ? "" : "s"} × ${r.samples} sample${r.samples === 1 ? "" : "s"}`,
      r.at_once >= r.per_run ? ", all at once" : `, ${r.at_once} at once`,
      " (and more for a repair round).");
    $("solve").disabled = false;
  } catch (error) {
    plan.classList.add("error-line");
    plan.append(error.message);
    $("solve").disabled = error.status === 422;
  }
}

async function submit(event) {
  event.preventDefault();
  const errorLine = $("submit-error");
  errorLine.hidden = true;
  const stub = $("stub").value;
  if (!stub.trim()) {
    errorLine.hidden = false;
    errorLine.textContent = "Write the stub first: a Python function with a docstring.";
    return;
  }
  const tests = {};
  for (const box of $("tests").querySelectorAll(".test-file")) {
    const name = box.querySelector(".test-name").value.trim();
    const source = box.querySelector(".test-source").value;
    if (name || source.trim()) tests[name] = source;
  }
  const body = { task: { stub, tests }, ...flags(), optimise: Number($("optimise").value || 0) };
  $("solve").disabled = true;
  try {
    const { body: accepted } = await apiJson("/v1/solve", { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    state.offset = 0;
    await select(accepted.id);
    await loadJobs({ around: accepted.id });
  } catch (error) {
    errorLine.hidden = false;
    errorLine.textContent = error.status === 429
      ? `The service is busy: ${error.message}. Try again in a moment.` : error.message;
  } finally {
    $("solve").disabled = false;
  }
}

async function loadModels() {
  const { body } = await apiJson("/v1/models");
  state.roster = body.models || [];
  setText("roster", body.roster && body.roster.length ? "default roster: " + body.roster.join(", ") : "");
  const box = $("models");
  box.replaceChildren();
  for (const name of state.roster) {
    const input = el("input", { type: "checkbox", value: name, checked: true });
    input.onchange = schedulePlan;
    box.append(el("label", { class: "model" }, input, name));
  }
  updatePlan().catch(() => {});
}
