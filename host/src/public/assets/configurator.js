// The configurator: picks a template, builds the configuration form from the catalog,
// PUTs every change and shows the price the server pushes over Server-Sent Events.
"use strict";
const main = document.querySelector("main");
const org = main.dataset.org;
const money = new Intl.NumberFormat(main.dataset.locale, { style: "currency", currency: main.dataset.currency });
const $ = (id) => document.getElementById(id);
let templates = [];
let template = null;
let session = null;
let stream = null;
let timer = null;

// Anything unexpected is shown, not swallowed.
window.addEventListener("error", (event) => { $("problems").textContent = event.message; });
window.addEventListener("unhandledrejection", (event) => { $("problems").textContent = String(event.reason); });

const STATUS_TEXT = {
  pending: "Confirming final price…",
  confirmed: "Final price",
  fallback: "Estimated price",
};

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

function numberInput(value, range) {
  const input = document.createElement("input");
  input.type = "number";
  input.min = range[0];
  input.max = range[1];
  input.step = 10;
  input.value = value;
  return input;
}

// Renders the form for the session's configuration.
function renderForm(configuration) {
  const form = $("configuration");
  form.replaceChildren();
  const size = document.createElement("fieldset");
  size.innerHTML = "<legend>Overall size (mm)</legend>";
  const row = document.createElement("div");
  row.className = "row";
  const d = template.dimensions;
  row.append(
    field("Width", "width", numberInput(configuration.width, [d.minWidth, d.maxWidth])),
    field("Height", "height", numberInput(configuration.height, [d.minHeight, d.maxHeight])),
  );
  size.append(row);
  form.append(size);
  configuration.components.forEach((part, index) => {
    const component = template.components.find((c) => c.id === part.componentId);
    const set = document.createElement("fieldset");
    set.dataset.component = part.componentId;
    const legend = document.createElement("legend");
    legend.textContent = `${component.name} (${component.type})`;
    set.append(legend);
    const dims = document.createElement("div");
    dims.className = "row";
    const cd = component.dimensions;
    dims.append(
      field("Width (mm)", `c${index}-width`, numberInput(part.width, [cd.minWidth, cd.maxWidth])),
      field("Height (mm)", `c${index}-height`, numberInput(part.height, [cd.minHeight, cd.maxHeight])),
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
      select.append(option("", "None", false));
      for (const opt of options) {
        const chosen = part.selectedOptions.some((s) => s.optionId === opt.id);
        select.append(option(opt.id, `${opt.name} (${opt.code})`, chosen));
      }
      set.append(field(group[0].toUpperCase() + group.slice(1), `c${index}-${group}`, select));
    }
    form.append(set);
  });
  const colors = document.createElement("fieldset");
  colors.innerHTML = "<legend>Colours</legend>";
  for (const side of ["inside", "outside"]) {
    const select = document.createElement("select");
    select.append(option("", "Standard", false));
    for (const color of template.colors.filter((c) => c.sides.includes(side))) {
      select.append(option(color.id, color.name, configuration[`${side}ColorId`] === color.id));
    }
    colors.append(field(side === "inside" ? "Inside colour" : "Outside colour", `${side}-color`, select));
  }
  form.append(colors);
}

// Reads the form back into a canonical configuration.
function readForm() {
  const sets = [...$("configuration").querySelectorAll("fieldset[data-component]")];
  return {
    width: Number($("width").value),
    height: Number($("height").value),
    components: sets.map((set, index) => ({
      componentId: set.dataset.component,
      width: Number($(`c${index}-width`).value),
      height: Number($(`c${index}-height`).value),
      selectedOptions: [...set.querySelectorAll("select[data-group]")]
        .filter((s) => s.value)
        .map((s) => ({ optionId: s.value })),
    })),
    insideColorId: $("inside-color").value || null,
    outsideColorId: $("outside-color").value || null,
  };
}

function showPricing(pricing) {
  if (session && pricing.configHash !== session.configHash) return; // an older configuration
  const status = $("status");
  status.className = `status ${pricing.status}`;
  status.textContent = STATUS_TEXT[pricing.status] || pricing.status;
  $("source").textContent = pricing.status === "pending" ? "" : `(${pricing.source})`;
  $("subtotal").textContent = money.format(pricing.subtotal);
  $("items").replaceChildren(...pricing.lineItems.map((item) => {
    const row = document.createElement("tr");
    for (const [text, numeric] of [[item.description, false], [item.quantity, true], [money.format(item.total), true]]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (numeric) cell.className = "num";
      row.append(cell);
    }
    return row;
  }));
}

function follow(url) {
  if (stream) stream.close();
  stream = new EventSource(url);
  stream.addEventListener("pricing", (event) => showPricing(JSON.parse(event.data)));
}

async function start(slug) {
  template = templates.find((t) => t.slug === slug);
  const response = await fetch(`/public/v1/orgs/${org}/configuration-sessions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ templateSlug: slug, origin: "configurator" }),
  });
  session = await response.json();
  renderForm(session.configuration);
  showPricing(session.pricing);
  follow(session.streamUrl);
  $("submitted").textContent = "";
}

async function change() {
  const response = await fetch(`/public/v1/configuration-sessions/${session.id}/configuration`, {
    method: "PUT", headers: { "content-type": "application/json" },
    body: JSON.stringify({ configuration: readForm() }),
  });
  const body = await response.json();
  if (!response.ok) {
    const errors = (body.error.details && body.error.details.errors) || [];
    $("problems").textContent = errors.map((e) => `${e.path}: ${e.message}`).join("; ") || body.error.message;
    return;
  }
  $("problems").textContent = "";
  session.configHash = body.configHash;
  showPricing(body);
}

$("configuration").addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(change, 150);
});
$("template").addEventListener("change", (event) => start(event.target.value));
$("submit").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch(`/public/v1/configuration-sessions/${session.id}/submit`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ customer: { name: $("name").value, email: $("email").value } }),
  });
  const body = await response.json();
  $("submitted").textContent = response.ok
    ? `Thank you! Submitted at ${money.format(body.pricing.subtotal)} (${body.pricing.source} price).`
    : body.error.message;
});

// Opens the product named by `?template=<slug>` (a link from the manufacturer's product
// page), else the first one in the catalogue.
(async () => {
  templates = await (await fetch(`/public/v1/orgs/${org}/templates`)).json();
  const wanted = new URLSearchParams(location.search).get("template");
  const first = templates.find((t) => t.slug === wanted) || templates[0];
  $("template").replaceChildren(...templates.map((t) => option(t.slug, t.name, t === first)));
  if (first) start(first.slug);
})();
