// The configurator: picks a template, builds the configuration form from the catalog in
// the customer's language and the organisation's units, PUTs every valid change (always in
// millimetres) and shows the price the server pushes over Server-Sent Events. The price is
// marked outdated, and Submit disabled, whenever it is not the price of what the form shows.
"use strict";
const main = document.querySelector("main");
const org = main.dataset.org;
const T = MESSAGES[main.dataset.lang] || MESSAGES.en;
const locale = main.dataset.locale;
const money = new Intl.NumberFormat(locale, { style: "currency", currency: main.dataset.currency });
const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const imperial = main.dataset.units === "imperial";
const MM_PER_INCH = 25.4;
const $ = (id) => document.getElementById(id);
const say = (text, values = {}) => text.replace(/\{(\w+)\}/g, (_, key) => values[key]);
let templates = [];
let template = null;
let session = null;
let stream = null;
let timer = null;
let shown = null; // the pricing on screen
let dirty = false; // the form changed since the server last answered it
let unreachable = false; // the last request (or the price stream) failed
let submitting = false;

for (const element of document.querySelectorAll("[data-t]")) element.textContent = T[element.dataset.t];
$("status").textContent = T.loading;

// Anything unexpected is shown, not swallowed.
window.addEventListener("error", (event) => { $("problems").textContent = event.message; });
window.addEventListener("unhandledrejection", () => showUnreachable(T.serverError));

// Millimetres as shown (inches with one decimal for imperial organisations), and back.
const toShown = (mm) => (imperial ? Math.round((mm / MM_PER_INCH) * 10) / 10 : mm);
const toMm = (value) => (imperial ? Math.round(value * MM_PER_INCH) : Math.round(value));
const unit = imperial ? T.in : T.mm;

function option(value, text, selected) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  element.selected = selected;
  return element;
}

function field(label, id, element) {
  const wrapper = document.createElement("div");
  const caption = document.createElement("label");
  caption.htmlFor = id;
  caption.textContent = label;
  element.id = id;
  wrapper.append(caption, element);
  return wrapper;
}

// A size input in the shown unit; its millimetre range is kept for validation.
function sizeInput(label, id, mm, range) {
  const input = document.createElement("input");
  input.type = "number";
  input.inputMode = "decimal";
  input.min = Math.ceil(toShown(range[0]) * 10) / 10;
  input.max = Math.floor(toShown(range[1]) * 10) / 10;
  input.step = imperial ? 0.1 : 10;
  input.value = toShown(mm);
  input.dataset.min = range[0];
  input.dataset.max = range[1];
  const wrapper = field(`${label} (${unit})`, id, input);
  const error = document.createElement("p");
  error.id = `${id}-error`;
  error.className = "field-error";
  error.hidden = true;
  wrapper.append(error);
  return wrapper;
}

// Marks a field invalid with its message next to it, or clears it.
function setFieldError(input, message) {
  const error = $(`${input.id}-error`);
  if (message) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", error.id);
    error.textContent = message;
    error.hidden = false;
  } else {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    error.textContent = "";
    error.hidden = true;
  }
}

// Checks every size field against its range; answers whether all are valid.
function validate() {
  let valid = true;
  for (const input of $("configuration").querySelectorAll("input[type=number]")) {
    const value = Number(input.value);
    const mm = toMm(value);
    const ok = input.value !== "" && Number.isFinite(value)
      && mm >= Number(input.dataset.min) && mm <= Number(input.dataset.max);
    setFieldError(input, ok ? null : say(T.range, { min: numbers.format(Number(input.min)), max: numbers.format(Number(input.max)), unit }));
    valid &&= ok;
  }
  return valid;
}

// Renders the form for the session's configuration.
function renderForm(configuration) {
  const form = $("configuration");
  form.replaceChildren();
  const size = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.textContent = T.size;
  const row = document.createElement("div");
  row.className = "row";
  const d = template.dimensions;
  row.append(
    sizeInput(T.width, "width", configuration.width, [d.minWidth, d.maxWidth]),
    sizeInput(T.height, "height", configuration.height, [d.minHeight, d.maxHeight]),
  );
  size.append(legend, row);
  form.append(size);
  // Components with the same name are numbered (Panel 1, Panel 2).
  const names = configuration.components.map((part) => template.components.find((c) => c.id === part.componentId).name);
  const seen = {};
  configuration.components.forEach((part, index) => {
    const component = template.components.find((c) => c.id === part.componentId);
    const set = document.createElement("fieldset");
    set.dataset.component = part.componentId;
    const caption = document.createElement("legend");
    const repeated = names.filter((n) => n === component.name).length > 1;
    seen[component.name] = (seen[component.name] || 0) + 1;
    caption.textContent = repeated ? `${component.name} ${seen[component.name]}` : component.name;
    set.append(caption);
    const dims = document.createElement("div");
    dims.className = "row";
    const cd = component.dimensions;
    dims.append(
      sizeInput(T.width, `c${index}-width`, part.width, [cd.minWidth, cd.maxWidth]),
      sizeInput(T.height, `c${index}-height`, part.height, [cd.minHeight, cd.maxHeight]),
    );
    set.append(dims);
    const groups = {};
    for (const id of component.optionIds) {
      const opt = template.options.find((o) => o.id === id);
      (groups[opt.group] = groups[opt.group] || []).push(opt);
    }
    for (const [group, options] of Object.entries(groups)) {
      const select = document.createElement("select");
      select.dataset.group = group;
      select.append(option("", T.none, false));
      for (const opt of options) {
        const chosen = part.selectedOptions.some((s) => s.optionId === opt.id);
        select.append(option(opt.id, opt.name, chosen));
      }
      set.append(field(group[0].toUpperCase() + group.slice(1), `c${index}-${group}`, select));
    }
    form.append(set);
  });
  const colors = document.createElement("fieldset");
  const colorsLegend = document.createElement("legend");
  colorsLegend.textContent = T.colours;
  colors.append(colorsLegend);
  for (const side of ["inside", "outside"]) {
    const select = document.createElement("select");
    select.append(option("", T.standard, false));
    for (const color of template.colors.filter((c) => c.sides.includes(side))) {
      select.append(option(color.id, color.name, configuration[`${side}ColorId`] === color.id));
    }
    colors.append(field(T[side], `${side}-color`, select));
  }
  form.append(colors);
}

// Reads the form back into a canonical configuration (millimetres).
function readForm() {
  const sets = [...$("configuration").querySelectorAll("fieldset[data-component]")];
  return {
    width: toMm(Number($("width").value)),
    height: toMm(Number($("height").value)),
    components: sets.map((set, index) => ({
      componentId: set.dataset.component,
      width: toMm(Number($(`c${index}-width`).value)),
      height: toMm(Number($(`c${index}-height`).value)),
      selectedOptions: [...set.querySelectorAll("select[data-group]")]
        .filter((s) => s.value)
        .map((s) => ({ optionId: s.value })),
    })),
    insideColorId: $("inside-color").value || null,
    outsideColorId: $("outside-color").value || null,
  };
}

// Whether the price on screen is the price of the form as it stands.
const current = () => Boolean(shown && session && !dirty && !unreachable && shown.configHash === session.configHash);

// Shows the status, the price and whether Submit may be used.
function render() {
  const status = $("status");
  const fresh = current();
  const state = fresh ? shown.status : "outdated";
  const invalid = $("configuration").querySelector("[aria-invalid=true]");
  const text = fresh ? T[shown.status] || shown.status
    : invalid ? T.outdatedInvalid
    : unreachable ? T.outdatedOffline
    : shown ? T.outdated : T.loading;
  status.className = `status ${state}`;
  status.textContent = text;
  status.dataset.source = fresh ? shown.source : "";
  $("summary-status").className = status.className;
  $("summary-status").textContent = text;
  for (const id of ["subtotal", "summary-price"]) {
    $(id).textContent = shown ? money.format(shown.subtotal) : "";
    $(id).classList.toggle("outdated", !fresh);
  }
  const button = $("submit-button");
  button.disabled = !fresh || submitting;
  button.setAttribute("aria-busy", String(submitting));
  button.textContent = submitting ? T.submitting : T.submit;
  $("submit-hint").hidden = fresh;
}

function showPricing(pricing) {
  if (session && pricing.configHash !== session.configHash) return; // an older configuration
  shown = pricing;
  $("items").replaceChildren(...pricing.lineItems.map((item) => {
    const row = document.createElement("tr");
    for (const [text, numeric] of [[item.description, false], [numbers.format(item.quantity), true], [money.format(item.total), true]]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (numeric) cell.className = "num";
      row.append(cell);
    }
    return row;
  }));
  render();
}

function showUnreachable(message) {
  unreachable = true;
  $("offline-text").textContent = message;
  $("offline").hidden = false;
  render();
}

function showReachable() {
  unreachable = false;
  $("offline").hidden = true;
  render();
}

function follow(url) {
  if (stream) stream.close();
  stream = new EventSource(url);
  stream.addEventListener("pricing", (event) => showPricing(JSON.parse(event.data)));
  stream.addEventListener("error", () => showUnreachable(T.offline));
  stream.addEventListener("open", () => { if (unreachable) showReachable(); });
}

// A request whose failure to connect is shown as the offline state.
async function request(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    showUnreachable(T.offline);
    return null;
  }
  if (response.status >= 500) {
    showUnreachable(T.serverError);
    return null;
  }
  return response;
}

async function start(slug) {
  template = templates.find((t) => t.slug === slug);
  const response = await request(`/public/v1/orgs/${org}/configuration-sessions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ templateSlug: slug, origin: "configurator" }),
  });
  if (!response) return;
  session = await response.json();
  dirty = false;
  showReachable();
  renderForm(session.configuration);
  showPricing(session.pricing);
  follow(session.streamUrl);
  $("submitted").textContent = "";
}

// Sends the form when it is valid; the price stays outdated until the answer.
async function change() {
  if (!validate()) {
    render();
    return;
  }
  const response = await request(`/public/v1/configuration-sessions/${session.id}/configuration`, {
    method: "PUT", headers: { "content-type": "application/json" },
    body: JSON.stringify({ configuration: readForm() }),
  });
  if (!response) return;
  const body = await response.json();
  if (!response.ok) {
    const errors = (body.error.details && body.error.details.errors) || [];
    $("problems").textContent = errors.map((e) => e.message).join("; ") || body.error.message;
    render();
    return;
  }
  $("problems").textContent = "";
  session.configHash = body.configHash;
  dirty = false;
  if (unreachable) follow(session.streamUrl);
  showReachable();
  showPricing(body);
}

$("configuration").addEventListener("input", () => {
  dirty = true;
  validate();
  render();
  clearTimeout(timer);
  timer = setTimeout(change, 150);
});
$("template").addEventListener("change", (event) => start(event.target.value));
$("retry").addEventListener("click", () => (session ? change() : boot()));
$("submit").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current() || submitting) return;
  submitting = true;
  render();
  const response = await request(`/public/v1/configuration-sessions/${session.id}/submit`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ customer: { name: $("name").value, email: $("email").value } }),
  });
  submitting = false;
  render();
  if (!response) return;
  const body = await response.json();
  $("submitted").textContent = response.ok
    ? say(T.thanks, { price: money.format(body.pricing.subtotal) })
    : body.error.message;
  $("submitted").dataset.source = response.ok ? body.pricing.source : "";
});

// Opens the product named by `?template=<slug>` (a link from the manufacturer's product
// page), else the first one in the catalogue.
async function boot() {
  const response = await request(`/public/v1/orgs/${org}/templates`);
  if (!response) return;
  templates = await response.json();
  const wanted = new URLSearchParams(location.search).get("template");
  const first = templates.find((t) => t.slug === wanted) || templates[0];
  $("template").replaceChildren(...templates.map((t) => option(t.slug, t.name, t === first)));
  if (first) start(first.slug);
}
boot();
